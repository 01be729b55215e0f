import { InjectionToken, OptionalFactoryDependency, Provider, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ClassOrFactoryConfig } from '../vali-blob.options';

/** True when a config value is a `{ useClass | useExisting | useFactory }` recipe rather than an instance. */
export function isRecipe<T>(value: unknown): value is ClassOrFactoryConfig<T> {
  if (!value || typeof value !== 'object') return false;
  return 'useClass' in value || 'useExisting' in value || 'useFactory' in value;
}

/** Turn a recipe into a Nest provider for `token` (static registration: full DI, correct init order). */
export function recipeToProvider<T>(token: InjectionToken, recipe: ClassOrFactoryConfig<T>): Provider {
  if ('useClass' in recipe) return { provide: token, useClass: recipe.useClass };
  if ('useExisting' in recipe) return { provide: token, useExisting: recipe.useExisting };
  return { provide: token, useFactory: recipe.useFactory, inject: recipe.inject ?? [] };
}

/**
 * Resolve a recipe at run time (the `forRootAsync` path, where the recipe is only known once the options
 * factory ran). `useClass` is instantiated with DI from this module's scope; `useExisting` and `useFactory`
 * dependencies are looked up across the application.
 */
export async function resolveRecipe<T>(recipe: ClassOrFactoryConfig<T>, moduleRef: ModuleRef): Promise<T> {
  if ('useClass' in recipe) return moduleRef.create(recipe.useClass as Type<T>);
  if ('useExisting' in recipe) return moduleRef.get<T>(recipe.useExisting as never, { strict: false });
  const args = (recipe.inject ?? []).map((dependency) => {
    const optional = typeof dependency === 'object' && dependency !== null && 'token' in dependency;
    const token = optional ? (dependency as OptionalFactoryDependency).token : (dependency as InjectionToken);
    try {
      return moduleRef.get(token as never, { strict: false });
    } catch (error) {
      if (optional && (dependency as OptionalFactoryDependency).optional) return undefined;
      throw error;
    }
  });
  return recipe.useFactory(...args);
}

/** Key under which a deferred stand-in exposes its resolver (symbols are not forwarded to the target). */
const DEFERRED_RESOLVE = Symbol('valiblob:deferred-resolve');

/**
 * The object behind a value that may be a `deferRecipe` stand-in: resolves the recipe (once) and returns the real
 * instance; any other value is returned as it is. Only call it once the app's providers exist (at or after
 * `onModuleInit`), as the stand-in itself does.
 */
export async function resolveDeferred<T>(value: T): Promise<T> {
  const resolve = (value as { [DEFERRED_RESOLVE]?: () => Promise<T> } | null)?.[DEFERRED_RESOLVE];
  return resolve ? resolve() : value;
}

/** Whether a value is a `deferRecipe` stand-in whose target may not exist yet. */
export function isDeferred(value: unknown): boolean {
  return typeof (value as { [DEFERRED_RESOLVE]?: unknown } | null)?.[DEFERRED_RESOLVE] === 'function';
}

/** Lifecycle hooks Nest calls on providers; forwarded to the resolved target. */
const LIFECYCLE_HOOKS = ['onModuleInit', 'onApplicationBootstrap', 'onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'];

/**
 * A stand-in for a recipe that can only be resolved after every provider of the app exists (the
 * `forRootAsync` path: a factory's dependencies, e.g. TypeORM's DataSource, may still be pending while this
 * module's providers are built). The stand-in is an instance of `base` (so `instanceof` holds); it resolves the
 * recipe at `onModuleInit` — failing bootstrap clearly if the recipe is wrong — and forwards every call, and
 * Nest's lifecycle hooks, to the resolved object. Every method of the contracts it stands in for is async, so
 * forwarding through a promise changes nothing for callers.
 */
export function deferRecipe<T extends object>(recipe: ClassOrFactoryConfig<T>, moduleRef: ModuleRef, base: abstract new (...args: never[]) => T): T {
  let resolved: T | undefined;
  let pending: Promise<T> | undefined;
  const resolve = (): Promise<T> => {
    pending ??= resolveRecipe(recipe, moduleRef).then((target) => {
      if (!target) throw new Error(`The ${base.name} recipe produced ${String(target)}`);
      resolved = target;
      return target;
    });
    return pending;
  };
  const standIn = Object.create(base.prototype) as T & { [DEFERRED_RESOLVE]?: () => Promise<T> };
  standIn[DEFERRED_RESOLVE] = resolve;
  return new Proxy(standIn as T, {
    get(target, property, receiver) {
      if (typeof property === 'symbol' || property === 'then') return Reflect.get(target, property, receiver);
      if (LIFECYCLE_HOOKS.includes(property)) {
        return async (...args: unknown[]) => {
          const object = property === 'onModuleInit' ? await resolve() : resolved;
          const hook = (object as Record<string, unknown> | undefined)?.[property];
          if (typeof hook === 'function') await hook.apply(object, args);
        };
      }
      if (resolved) {
        const value = (resolved as Record<string, unknown>)[property];
        return typeof value === 'function' ? value.bind(resolved) : value;
      }
      // Object basics (constructor, toString, …) come from the stand-in itself; anything else is a contract
      // method (abstract ones are not on the prototype) and is forwarded once resolved.
      if (property in Object.prototype) return Reflect.get(target, property, receiver);
      return async (...args: unknown[]) => {
        const object = await resolve();
        return (object as Record<string, (...a: unknown[]) => unknown>)[property](...args);
      };
    },
  });
}
