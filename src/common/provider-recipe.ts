import { Inject, InjectionToken, OptionalFactoryDependency, Optional, Provider, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ClassOrFactoryConfig } from '../options/pluggable-config.interface';

/** True when a config value is a `{ useClass | useExisting | useFactory }` recipe rather than an instance. */
export function isRecipe<T>(value: unknown): value is ClassOrFactoryConfig<T> {
  if (!value || typeof value !== 'object') return false;
  return 'useClass' in value || 'useExisting' in value || 'useFactory' in value;
}

/** Turn a recipe into a Nest provider for `token` (`forRoot`: the recipe is known when the module is defined). */
export function recipeToProvider<T>(token: InjectionToken, recipe: ClassOrFactoryConfig<T>): Provider {
  if ('useClass' in recipe) return { provide: token, useClass: recipe.useClass };
  if ('useExisting' in recipe) return { provide: token, useExisting: recipe.useExisting };
  return { provide: token, useFactory: recipe.useFactory, inject: recipe.inject ?? [] };
}

/**
 * Build what a recipe describes from inside one of the module's factory providers (`forRootAsync`: the recipe is
 * only known once the options factory ran). Nest's own injector does the work (`moduleRef.create`), so the
 * dependencies resolve exactly as for the module's providers: from this module, its `imports` and global modules,
 * and an async provider that is still being created (TypeORM's DataSource, say) is waited for. The result is the
 * real object; Nest calls its lifecycle hooks as the instance of the provider that returned it.
 *
 * @param what names the recipe in errors, e.g. `ResumableSessionStore`.
 */
export async function resolveRecipe<T>(
  recipe: ClassOrFactoryConfig<T>,
  moduleRef: ModuleRef,
  what: string,
): Promise<T> {
  let target: T;
  if ('useClass' in recipe) target = await moduleRef.create(recipe.useClass);
  else if ('useExisting' in recipe) [target] = (await injectAll([recipe.useExisting], moduleRef, what)) as [T];
  else target = await recipe.useFactory(...(await injectAll(recipe.inject ?? [], moduleRef, what)));
  if (!target) throw new Error(`The ${what} recipe produced ${String(target)}`);
  return target;
}

/** Dependencies of a recipe, resolved by Nest: a throw-away class whose constructor injects them is created. */
async function injectAll(
  dependencies: Array<InjectionToken | OptionalFactoryDependency>,
  moduleRef: ModuleRef,
  what: string,
): Promise<unknown[]> {
  if (dependencies.length === 0) return [];
  class RecipeDependencies {
    readonly values: unknown[];
    constructor(...values: unknown[]) {
      this.values = values;
    }
  }
  // Nest names this class in "can't resolve dependencies" errors.
  Object.defineProperty(RecipeDependencies, 'name', { value: `${what} recipe` });
  dependencies.forEach((dependency, index) => {
    const optional = typeof dependency === 'object' && dependency !== null && 'token' in dependency;
    Inject(optional ? dependency.token : (dependency as InjectionToken))(RecipeDependencies, undefined as never, index);
    if (optional && dependency.optional) Optional()(RecipeDependencies, undefined as never, index);
  });
  return (await moduleRef.create(RecipeDependencies as Type<RecipeDependencies>)).values;
}
