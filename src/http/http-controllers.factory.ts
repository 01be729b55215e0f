import { Controller, Type } from '@nestjs/common';
import { AdminUploadsController } from '../admin/admin-uploads.controller';
import type { ResolvedHttpOptions } from '../vali-blob.options';
import { markBlobMount } from './blobs/blob-route';
import { BlobsController } from './blobs/blobs.controller';
import { RestUploadsController } from './rest/rest-uploads.controller';
import { TusController } from './tus/tus.controller';

/**
 * Controllers mounted at the configured paths. Each is a fresh subclass decorated with `@Controller(path)`,
 * so the route prefix comes from the options while the handlers (and their route metadata) are inherited.
 */
export function createHttpControllers(paths: ResolvedHttpOptions): Type<unknown>[] {
  const controllers: Type<unknown>[] = [];
  if (paths.tus !== null) controllers.push(mount(TusController, paths.tus));
  if (paths.rest !== null) controllers.push(mount(RestUploadsController, paths.rest));
  if (paths.blobs !== null) {
    const blobs = mount(BlobsController, paths.blobs);
    // The wildcard is part of the controller path, so it can follow the platform (see routeBlobMounts).
    markBlobMount(blobs, paths.blobs);
    controllers.push(blobs);
  }
  // Only ever set together with its authorize hook (readHttpOptions).
  if (paths.admin !== null) controllers.push(mount(AdminUploadsController, paths.admin));
  return controllers;
}

function mount<T>(base: Type<T>, path: string): Type<T> {
  const mounted = class extends (base as Type<object>) {} as Type<T>;
  Object.defineProperty(mounted, 'name', { value: `${base.name}At_${path.replace(/[^A-Za-z0-9]/g, '_')}` });
  Controller(path)(mounted);
  return mounted;
}
