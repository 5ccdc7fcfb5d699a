// A workflow worker's email step through smtp-sidecar.
//   SMTP_SIDECAR_SOCKET=/run/smtp-sidecar/smtp-sidecar.sock node examples/worker.mjs
import { createClient, idempotencyKey, withRetry, SidecarError } from 'smtp-sidecar';

const sidecar = createClient({ socketPath: process.env.SMTP_SIDECAR_SOCKET, maxConnections: 4 });

/** One execution of an "email" node: retried on transient errors, never sent twice. */
export async function runEmailNode({ executionId, nodeId, attempt, workspaceId, credential, message }) {
  const params = {
    workspace_id: workspaceId,
    credential, // or credential_id: a credential stored in the daemon
    ...message, // from, to, cc, bcc, subject, text, html, attachments, ...
    context: { execution_id: executionId, node_id: nodeId, idempotency_key: idempotencyKey(executionId, nodeId, attempt) },
  };
  try {
    const info = await withRetry(() => sidecar.send(params), {
      retries: 3,
      onRetry: (err, n, ms) => console.warn(`send failed (${err.sidecarCode}), retry ${n} in ${ms} ms`),
    });
    return { ok: true, messageId: info.messageId, accepted: info.accepted, rejected: info.rejected, duplicate: info.duplicate };
  } catch (err) {
    if (!(err instanceof SidecarError)) throw err;
    // err.code is Nodemailer's (EAUTH, ECONNECTION, EENVELOPE, ...), err.sidecarCode the sidecar's.
    if (err.sidecarCode === 'outcome_unknown') console.warn('The message may have been delivered: not re-sent.');
    return { ok: false, code: err.code, sidecarCode: err.sidecarCode, message: err.message, response: err.response, field: err.field };
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const hello = await sidecar.hello();
  console.log(`connected to ${hello.server} ${hello.server_version}, protocol ${hello.version}`);
  const result = await runEmailNode({
    executionId: 'ex_1',
    nodeId: 'email_1',
    attempt: 1,
    workspaceId: 'ws_demo',
    credential: { host: process.env.SMTP_HOST ?? 'smtp.example.com', port: Number(process.env.SMTP_PORT ?? 587), username: process.env.SMTP_USER, password: process.env.SMTP_PASSWORD },
    message: { from: process.env.SMTP_USER, to: process.env.MAIL_TO ?? 'ops@example.com', subject: 'Hello from a worker', text: 'It works.' },
  });
  console.log(result);
  await sidecar.close();
}
