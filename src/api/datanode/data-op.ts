/**
 * One request of the data path, `GET|PUT|DELETE /data/<key>[?epoch=N]`,
 * carried out against the node: the same checks and the same refusals
 * whether it came on its own or inside a batch.
 */
import type { DataNodeService } from '../../datanode/contract.js';
import { ClusterError, ClusterErrorCode } from '../../errors/index.js';
import { HttpError, HttpErrorCode } from '../coordinator/errors/http-error.js';
import { checkQuery } from '../coordinator/rest-input.js';
import { dataKeyOf, epochOf, type RequestTarget } from './request-target.js';

/** The route label of the data path: keys are unbounded, labels must not be. */
export const DATA_ROUTE = '/data/:key';
export const DATA_METHODS = ['GET', 'PUT', 'DELETE'] as const;

export function notAllowed(method: string, path: string, allowed: readonly string[]): HttpError {
  return new HttpError(HttpErrorCode.MethodNotAllowed, `${method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`, { allowed: [...allowed] });
}

/** NOT_FOUND for a path that is no route of the node's REST. */
export function noRoute(method: string, rawPath: string): ClusterError {
  const shown = rawPath.slice(0, 200);
  return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'route', id: shown }, `no route ${method} ${shown}`);
}

function noKey(key: string): ClusterError {
  return new ClusterError({ code: ClusterErrorCode.NotFound, resource: 'key', id: key }, `no key ${JSON.stringify(key)}`);
}

/** Checks the method, key and query of a data request before its value is read. */
export function checkDataRequest(method: string, target: RequestTarget): { key: string; epoch: number | undefined } {
  if (!(DATA_METHODS as readonly string[]).includes(method)) throw notAllowed(method, DATA_ROUTE, DATA_METHODS);
  checkQuery(target.query, ['epoch']);
  return { epoch: epochOf(target.query), key: dataKeyOf(target.rawPath) };
}

/** Carries out a checked request: a GET's value (NOT_FOUND for a missing key), nothing for PUT and DELETE. */
export async function runDataRequest(service: DataNodeService, method: string, checked: { key: string; epoch: number | undefined }, value?: Uint8Array): Promise<Uint8Array | undefined> {
  const { key, epoch } = checked;
  if (method === 'PUT') {
    await service.put(key, value ?? new Uint8Array(0), epoch);
    return undefined;
  }
  if (method === 'DELETE') {
    await service.delete(key, epoch);
    return undefined;
  }
  const found = await service.get(key, epoch);
  if (found === null) throw noKey(key);
  return found;
}
