/**
 * @module peer/files-api
 * The API's file methods (docs/api.md "Files"; issue 18 §1), kept apart from
 * api-methods.ts so the method table there stays the chat and group one:
 * uploads from a client (`file.begin`, `file.chunk`, `file.finish`,
 * `file.cancel`), where a file stands (`file.status`) and its bytes
 * (`file.read`). Errors are `ApiError`s with contract codes: over the size
 * limit `tooLarge`, an unknown group or file `notFound`, bytes out of order
 * `invalidParams`, not a member `notAllowed`.
 */
import { ErrorCodes, type MethodName } from '../api/contract.js';
import { ApiError, type PeerMethods } from '../api/handler.js';
import { LocalProtocolError } from '../core/errors.js';
import type { Files } from './files.js';
import { UploadError } from './files-upload.js';
import type { PeerContext } from './peer-context.js';

export type FileMethodName = Extract<MethodName, `file.${string}`>;

const UPLOAD_CODES = { 'too-large': ErrorCodes.tooLarge, busy: ErrorCodes.notAllowed, unknown: ErrorCodes.notFound, order: ErrorCodes.invalidParams, incomplete: ErrorCodes.invalidParams } as const;

function uploadCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UploadError) throw new ApiError(UPLOAD_CODES[err.kind], err.message);
    throw err;
  }
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function fileMethods(ctx: PeerContext, files: Files): Pick<PeerMethods, FileMethodName> {
  const member = (group: string) => {
    const rt = ctx.groups.get(group);
    if (!rt) throw new ApiError(ErrorCodes.notFound, `not in group ${group}`);
    if (rt.engine.state() !== 'member') throw new ApiError(ErrorCodes.notAllowed, `not a member of ${group} (state ${rt.engine.state()})`);
    files.attach(rt);
    return rt;
  };
  const follow = (group: string) => {
    const rt = ctx.groups.get(group);
    if (rt) files.attach(rt);
  };
  return {
    'file.begin': ({ group, name, size, mime, thumb }) => {
      member(group);
      const tooLarge = files.tooLarge(size);
      if (tooLarge) throw new ApiError(ErrorCodes.tooLarge, tooLarge);
      if (thumb !== undefined && !/^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}$/.test(thumb)) throw new ApiError(ErrorCodes.invalidParams, 'a thumbnail is a JPEG, PNG or WebP data URL');
      const type = mime && /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(mime) ? mime : 'application/octet-stream';
      const upload = uploadCall(() => files.uploads.begin(group, { name, size, mime: type, ...(thumb ? { thumb } : {}) }, Date.now()));
      return { upload, maxBytes: files.maxBytes };
    },
    'file.chunk': ({ upload, offset, data }) => {
      if (!B64.test(data) || data.length % 4 !== 0) throw new ApiError(ErrorCodes.invalidParams, 'data is not base64');
      const bytes = new Uint8Array(Buffer.from(data, 'base64'));
      if (bytes.length > 512 * 1024) throw new ApiError(ErrorCodes.invalidParams, 'at most 512 KiB per chunk');
      return { received: uploadCall(() => files.uploads.chunk(upload, offset, bytes, Date.now())) };
    },
    'file.finish': async ({ upload }) => {
      const { group, body } = uploadCall(() => files.uploads.finish(upload));
      const rt = member(group);
      try {
        return await rt.sendFile(body);
      } catch (err) {
        if (err instanceof LocalProtocolError) throw new ApiError(ErrorCodes.notAllowed, err.message);
        throw err;
      }
    },
    'file.cancel': ({ upload }) => {
      files.uploads.cancel(upload);
      return { ok: true as const };
    },
    'file.status': ({ group, file }) => {
      follow(group);
      const status = files.status(group, file);
      if (!status) throw new ApiError(ErrorCodes.notFound, 'no such file in this group on this device');
      return status;
    },
    'file.read': ({ group, file, offset, length }) => {
      follow(group);
      const bytes = files.read(group, file, offset, length);
      if (!bytes) throw new ApiError(ErrorCodes.notFound, 'this file is not whole on this device yet');
      return { data: Buffer.from(bytes).toString('base64'), size: files.status(group, file)?.size ?? 0 };
    },
  };
}
