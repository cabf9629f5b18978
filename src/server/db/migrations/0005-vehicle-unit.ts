import type { Kysely } from 'kysely';
import { idRefType, isPostgres, sql } from './helpers.js';

// Each vehicle carries its customer's org unit, kept in step by the engine, so the pump lookup of a
// station (or an area) reads only its own plates: an index on (org unit, reversed plate).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('vehicle').addColumn('org_unit_id', idRefType(db)).execute();
  await sql`update vehicle set org_unit_id = (select c.org_unit_id from customer c where c.id = vehicle.customer_id)`.execute(
    db,
  );
  if (isPostgres(db)) {
    await sql`create index vehicle_unit_suffix_idx on vehicle (org_unit_id, plate_reversed text_pattern_ops)`.execute(
      db,
    );
    await sql`create function vehicle_take_unit() returns trigger language plpgsql as $$
      begin
        new.org_unit_id := (select c.org_unit_id from customer c where c.id = new.customer_id);
        return new;
      end $$`.execute(db);
    await sql`create trigger vehicle_unit_biu before insert or update of customer_id on vehicle for each row execute function vehicle_take_unit()`.execute(
      db,
    );
    await sql`create function customer_move_vehicles() returns trigger language plpgsql as $$
      begin
        update vehicle set org_unit_id = new.org_unit_id where customer_id = new.id;
        return null;
      end $$`.execute(db);
    await sql`create trigger customer_unit_au after update of org_unit_id on customer for each row when (old.org_unit_id is distinct from new.org_unit_id) execute function customer_move_vehicles()`.execute(
      db,
    );
  } else {
    await sql`create index vehicle_unit_suffix_idx on vehicle (org_unit_id, plate_reversed)`.execute(db);
    await sql`create trigger vehicle_unit_ai after insert on vehicle begin
      update vehicle set org_unit_id = (select c.org_unit_id from customer c where c.id = new.customer_id) where id = new.id; end`.execute(
      db,
    );
    await sql`create trigger vehicle_unit_au after update of customer_id on vehicle begin
      update vehicle set org_unit_id = (select c.org_unit_id from customer c where c.id = new.customer_id) where id = new.id; end`.execute(
      db,
    );
    await sql`create trigger customer_unit_au after update of org_unit_id on customer when old.org_unit_id is not new.org_unit_id begin
      update vehicle set org_unit_id = new.org_unit_id where customer_id = new.id; end`.execute(db);
  }
}
