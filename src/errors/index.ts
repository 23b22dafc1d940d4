export { CLUSTER_ERROR_STATUS, ClusterErrorCode, isClusterErrorCode, type ErrorStatus } from './public-codes.js';
export { ClusterError, isClusterError, type ClusterErrorType } from './cluster-error.js';
export { ConfigError, ConfigErrorCode, type ConfigErrorType } from './config-error.js';
export { errorResponse, INTERNAL_ERROR_MESSAGE, toErrorBody, type ErrorBody, type ErrorResponse } from './error-body.js';
export { TRPC_ERROR_CODES, type TrpcErrorCode } from './trpc-codes.js';
export { primitiveFields, TypedError, type PayloadOf, type PublicValue } from './typed-error.js';
