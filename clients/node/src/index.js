export { createClient, CLIENT_VERSION, DEFAULT_SOCKET_PATH } from './client.js';
export { SidecarError, NODEMAILER_CODES, nodemailerCode, formatSmtpReply } from './errors.js';
export { idempotencyKey, withRetry, isRetryable } from './helpers.js';
export { toSendInfo, envelopeOf, splitAddressList, bareAddress } from './result.js';
export { encodeRequest, encodeFrame, FrameDecoder, FrameError, MAX_RESPONSE_BYTES } from './frame.js';
export { sidecarTransport, mapMailOptions, UNSUPPORTED_OPTIONS } from './nodemailer.js';
export { default } from './nodemailer.js';
