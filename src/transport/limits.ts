/**
 * Protocol limits shared by encoder and decoder. The encoder enforces the
 * same bounds as the decoder so that a sender never puts on the wire what
 * every receiver would refuse (which would only kill the connection, over
 * and over, as Raft retransmits).
 */

/** Replica ids and the ids in a snapshot's configuration (UTF-8 bytes). */
export const MAX_ID_BYTES = 64;
/** clusterId in the handshake (UTF-8 bytes). */
export const MAX_CLUSTER_ID_BYTES = 128;
/** ReadIndex request ids (UTF-8 bytes). */
export const MAX_REQUEST_ID_BYTES = 256;
/**
 * Entries in one append or proposal-forward message. The core bounds an
 * append by bytes (maxSizePerMsgBytes, 1 MiB by default ≈ 43,690 empty
 * entries), so this is far above what it sends and only stops a hostile count.
 */
export const MAX_ENTRIES_PER_MESSAGE = 100_000;
/** Voters and learners, each, in a snapshot's configuration. */
export const MAX_CONF_MEMBERS = 1_024;
/** Reason text in a close frame (UTF-8 bytes; longer reasons are cut). */
export const MAX_REASON_BYTES = 1_024;
/** Close-frame codes (UTF-8 bytes). */
export const MAX_CODE_BYTES = 32;

/**
 * Before its handshake is accepted a connection may send only this much per
 * frame (a hello is < 300 bytes, a close frame < 1,100): a stranger on the
 * port cannot make us buffer a 64 MiB frame.
 */
export const MAX_HANDSHAKE_FRAME_BYTES = 2_048;

/** Default for maxFrameBytes: room for a coordinator snapshot. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** The smallest maxFrameBytes that still fits a handshake and a heartbeat. */
export const MIN_MAX_FRAME_BYTES = MAX_HANDSHAKE_FRAME_BYTES;
/** Largest value a u32 length prefix can carry. */
export const MAX_U32 = 0xffff_ffff;
