/**
 * File names on a file card (pure, tested). Invariant: the extension a Save gives the file is
 * shown apart from the rest of the name and never cut; only the rest is (review 31: a long name
 * pushed `.exe` out of the card behind an ellipsis).
 */

/** The last extension of a file name (a dot, then up to 16 letters or digits), or ''. */
export function extensionOf(name: string): string {
  return /\.[\p{L}\p{N}]{1,16}$/u.exec(name)?.[0] ?? '';
}
