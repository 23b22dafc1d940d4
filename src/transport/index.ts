export { PeerTransport } from './peer-transport.js';
export { TransportError, TransportErrorCode } from './errors.js';
export { encodeMessage, decodeMessage } from './codec.js';
export { PROTOCOL_VERSION } from './handshake.js';
export { DEFAULTS as TRANSPORT_DEFAULTS } from './options.js';
export * from './limits.js';
export type { Direction, LogFn, PeerAddress, PeerTransportModules, PeerTransportOptions, TransportStats } from './types.js';
