import { Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { InvalidPathError } from '../../errors/vali-blob.errors';
import type { HttpExchange } from '../http-exchange';

/**
 * The blob route's wildcard in each router's syntax. Express 5 (path-to-regexp 8) needs a named wildcard and
 * hands it over as decoded segments; Fastify (find-my-way) refuses anything after `*` ("Wildcard must be the
 * last character in the route") and hands the rest of the path over as one decoded string. Both are optional,
 * so `/<mount>/` reaches the handler (404 BLOB_NOT_FOUND) on both platforms alike.
 */
const WILDCARD = { express: '{*path}', fastify: '*' } as const;

/** Metadata key marking a controller class as the blob route; the value is its mount path. */
const BLOB_MOUNT = Symbol('valiblob:blob-mount');

/**
 * Make `controller` the blob route at `mount`: its route path is `<mount>/<wildcard>`, in Express syntax until
 * `routeBlobMounts` learns the platform (Express is Nest's default platform).
 */
export function markBlobMount(controller: Type<unknown>, mount: string): void {
  Reflect.defineMetadata(BLOB_MOUNT, mount, controller);
  Reflect.defineMetadata(PATH_METADATA, routePath(mount, 'express'), controller);
}

/**
 * Give each blob-route controller among `controllers` the wildcard of `platform` (`HttpAdapter.getType()`).
 * Must run after the HTTP adapter is known and before Nest registers routes: `ValiBlobModule.configure` is
 * that moment (Nest runs modules' `configure` just before it resolves the routes, for `NestFactory.create` and
 * `Test.createTestingModule(...).createNestApplication()` alike). Each `forRoot` mounts its own subclass, so
 * this never changes the route of another registration.
 */
export function routeBlobMounts(controllers: Iterable<unknown>, platform: string | undefined): void {
  for (const controller of controllers) {
    if (typeof controller !== 'function') continue;
    const mount = Reflect.getOwnMetadata(BLOB_MOUNT, controller) as string | undefined;
    if (mount === undefined) continue;
    Reflect.defineMetadata(PATH_METADATA, routePath(mount, platform === 'fastify' ? 'fastify' : 'express'), controller);
  }
}

function routePath(mount: string, platform: keyof typeof WILDCARD): string {
  return mount === '' ? WILDCARD[platform] : `${mount}/${WILDCARD[platform]}`;
}

/**
 * The blob path as routing matched it, as decoded segments (after the mount and any global prefix, in the
 * case the client sent, whatever case routing matched; `[]` for `/<mount>/`), or `null` when the request
 * carries no router parameters (not routed by this route). A segment may hold a decoded `/` (sent as `%2F`):
 * callers refuse it.
 *
 * Express gives the segments itself. Fastify gives one string decoded as a whole, which cannot tell `a%2Fb`
 * from `a/b`; the segments are therefore read back from the raw URL — its shortest suffix of whole segments
 * that decodes to exactly that string (a unique suffix: a longer one decodes to a longer string). A trailing
 * `/` stays an empty last segment, as Express's wildcard keeps it.
 */
export function routedBlobSegments(exchange: HttpExchange): string[] | null {
  const params = (exchange.platformRequest as { params?: Record<string, unknown> }).params;
  if (!params) return null;
  const fastify = params['*'];
  if (typeof fastify !== 'string') {
    // Express: the optional wildcard is absent when it matched nothing (`/<mount>/`).
    const express = params.path ?? [];
    const allStrings = Array.isArray(express) && express.every((segment) => typeof segment === 'string');
    return allStrings ? (express as string[]) : null;
  }
  // find-my-way ends the path at `?` and at `#` alike.
  const rawPath = exchange.urlPath.split('#')[0];
  const segments =
    segmentsDecodingTo(rawPath, fastify) ??
    // The router may have collapsed `//` or trimmed a trailing `/` (ignoreDuplicateSlashes, ignoreTrailingSlash).
    segmentsDecodingTo(rawPath.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1'), fastify);
  if (!segments) throw new InvalidPathError(fastify, 'the path could not be read back from the URL');
  return segments.length === 1 && segments[0] === '' ? [] : segments;
}

/** The whole `/`-separated segments at the end of `rawPath` that decode to `decoded`, or null. */
function segmentsDecodingTo(rawPath: string, decoded: string): string[] | null {
  const raw = rawPath.split('/');
  // Collected from the end (reversed once at the end: linear in the number of segments).
  const reversed: string[] = [];
  let length = -1;
  // Index 0 is the empty string before the leading `/`: never part of the wildcard.
  for (let i = raw.length - 1; i >= 1; i--) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw[i]);
    } catch {
      return null;
    }
    reversed.push(segment);
    length += segment.length + 1;
    if (length > decoded.length) return null;
    if (length === decoded.length) {
      const segments = reversed.reverse();
      return segments.join('/') === decoded ? segments : null;
    }
  }
  return null;
}
