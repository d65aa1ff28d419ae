// Run inside a test network namespace: forwards a Unix socket (a filesystem path
// the host can reach) to 127.0.0.1:PORT of this namespace. Prints "ready".
// Usage: node unix-forward.mjs SOCKET_PATH PORT
import net from 'node:net';

const [path, port] = process.argv.slice(2);
net
  .createServer((client) => {
    const upstream = net.connect(Number(port), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  })
  .listen(path, () => process.stdout.write('ready\n'));
