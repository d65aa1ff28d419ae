/**
 * What a desktop notification for a chat message says. The message text is a group member's
 * (hostile until shown otherwise): on Linux, Electron hands the body to libnotify, and the
 * freedesktop notification spec lets the server read it as markup (`<b>`, `<i>`, `<u>`, `<a href>`,
 * `<img src>`). A member's `<a href="https://evil.example/">your bank</a>` then became a link
 * the text did not show, `<img src="file:///…">` asked the server to read a local file, and a bare
 * `<` made some servers drop the body. So on Linux the body's `&`, `<` and `>` are written as
 * entities (what the spec asks of a client that means plain text). The title is the summary, which
 * the spec keeps plain, so it is left alone. Other platforms show the text as it is.
 */

const BODY_CHARS = 180;

/** The notification's title and body for a message from `senderName` in `groupName`. */
export function notificationText(m: { senderName: string; text: string }, groupName: string | undefined, platform: NodeJS.Platform): { title: string; body: string } {
  const plain = m.text.length > BODY_CHARS ? `${m.text.slice(0, BODY_CHARS - 3)}…` : m.text;
  return {
    title: groupName ? `${m.senderName} · ${groupName}` : m.senderName,
    body: platform === 'linux' ? plain.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;')) : plain,
  };
}
