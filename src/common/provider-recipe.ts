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
