// The app's own DataSource for the TypeORM CLI (docs/typeorm.md, "Adding the entities and migrations to your own
// DataSource"): `npx typeorm migration:run -d dist/data-source.js`.
import { DataSource } from 'typeorm';
import { VALIBLOB_ENTITIES, VALIBLOB_MIGRATIONS } from '@vali-blob/nestjs/migrations';

export default new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL,
  entities: [...VALIBLOB_ENTITIES],
  migrations: [...VALIBLOB_MIGRATIONS],
});
