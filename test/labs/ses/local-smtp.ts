import { AddressInfo, createServer, Server, Socket } from 'node:net';

/** A message the SMTP stand-in accepted. */
export interface AcceptedMail {
  readonly user: string;
  readonly from: string;
  readonly to: string[];
  readonly data: string;
}

/**
 * The part of SES's SMTP interface the lab's smtp step uses, on loopback without TLS: EHLO, AUTH PLAIN against one
 * user name and password (535 otherwise, as SES answers a wrong password), MAIL FROM, RCPT TO, DATA, QUIT.
 */
export async function startSmtpStandIn(credentials: { user: string; password: string }): Promise<{
  port: number;
  accepted: AcceptedMail[];
  close(): Promise<void>;
}> {
  const accepted: AcceptedMail[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const reply = (line: string) => socket.write(`${line}\r\n`);
    let user: string | undefined;
    let from = '';
    let to: string[] = [];
    let data: string | undefined;
    let buffered = '';
    reply('220 smtp.stand-in ESMTP');
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (data !== undefined) {
          if (line === '.') {
            accepted.push({ user: user ?? '', from, to, data });
            data = undefined;
            reply(`250 Ok stand-in-${accepted.length}`);
          } else data += `${line}\n`;
          continue;
        }
        const [verb, ...rest] = line.split(' ');
        const argument = rest.join(' ');
        switch (verb.toUpperCase()) {
          case 'EHLO':
            reply('250-smtp.stand-in');
            reply('250 AUTH PLAIN');
            break;
          case 'AUTH': {
            // AUTH PLAIN <base64 of \0user\0password>, the initial response on the same line as nodemailer sends it.
            const [, given, password] = Buffer.from(argument.replace(/^PLAIN\s+/i, ''), 'base64').toString('utf8').split('\0');
            if (given === credentials.user && password === credentials.password) {
              user = given;
              reply('235 Authentication successful.');
            } else reply('535 Authentication Credentials Invalid');
            break;
          }
          case 'MAIL':
            if (!user) reply('530 Authentication required');
            else {
              from = argument.replace(/^FROM:\s*<?([^>]*)>?.*$/i, '$1');
              to = [];
              reply('250 Ok');
            }
            break;
          case 'RCPT':
            to.push(argument.replace(/^TO:\s*<?([^>]*)>?.*$/i, '$1'));
            reply('250 Ok');
            break;
          case 'DATA':
            data = '';
            reply('354 End data with <CR><LF>.<CR><LF>');
            break;
          case 'QUIT':
            reply('221 Bye');
            socket.end();
            break;
          default:
            reply('502 Command not implemented');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
