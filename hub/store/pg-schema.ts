// The PostgreSQL store's schema, as numbered migrations applied at start (hub/store/pg.ts). Each one runs
// in its own transaction together with its row in pcp_schema_migrations, so a crash mid-migration leaves
// the previous version, never half of one. A database whose newest migration is newer than this code's is
// refused: an older hub must not write into tables whose meaning it does not know.
import { PcpError } from '../../runtime/errors.js'
import type { Pool } from 'pg'
import { HubStoreErrorCodes } from './level.js'

export interface Migration { version: number, name: string, sql: string }

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tables',
    // record / entry columns hold the same CBOR bytes the LevelDB store writes under A!, e!, x!: an event
    // row is runtime/record.ts's record of the signed event, so both stores export byte-identical chains.
    sql: `
CREATE TABLE pcp_agents (
  agent_id   text PRIMARY KEY,
  head_seq   bigint NOT NULL DEFAULT -1,
  first_seen double precision NOT NULL,
  record     bytea NOT NULL
);
CREATE TABLE pcp_events (
  agent_id text NOT NULL,
  seq      bigint NOT NULL,
  record   bytea NOT NULL,
  PRIMARY KEY (agent_id, seq)
);
CREATE TABLE pcp_nonces (
  signer   text NOT NULL,
  nonce    text NOT NULL,
  agent_id text NOT NULL,
  seq      bigint NOT NULL,
  PRIMARY KEY (signer, nonce)
);
CREATE TABLE pcp_evidence (
  agent_id text NOT NULL,
  n        bigint NOT NULL,
  entry    bytea NOT NULL,
  PRIMARY KEY (agent_id, n)
);`
  },
  {
    version: 2,
    name: 'pcp_write',
    // One call = one statement = one round trip and one commit for a whole group of appends and record
    // updates. Each agent row is a compare-and-set on head_seq; the first one that fails raises PCP09 with
    // the agent in MESSAGE and its actual head in DETAIL, and nothing of the call is kept.
    sql: `
CREATE FUNCTION pcp_write(
  a_id text[], a_expected bigint[], a_head bigint[], a_first double precision[], a_rec bytea[],
  e_agent text[], e_seq bigint[], e_rec bytea[],
  n_signer text[], n_nonce text[], n_agent text[], n_seq bigint[],
  x_agent text[], x_n bigint[], x_entry bytea[], x_keep bigint
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  i int;
  actual bigint;
BEGIN
  FOR i IN 1 .. coalesce(array_length(a_id, 1), 0) LOOP
    UPDATE pcp_agents SET head_seq = a_head[i], record = a_rec[i] WHERE agent_id = a_id[i] AND head_seq = a_expected[i];
    IF NOT FOUND AND a_expected[i] = -1 THEN
      INSERT INTO pcp_agents (agent_id, head_seq, first_seen, record) VALUES (a_id[i], a_head[i], a_first[i], a_rec[i]) ON CONFLICT (agent_id) DO NOTHING;
    END IF;
    IF NOT FOUND THEN
      SELECT head_seq INTO actual FROM pcp_agents WHERE agent_id = a_id[i];
      RAISE EXCEPTION USING ERRCODE = 'PCP09', MESSAGE = a_id[i], DETAIL = coalesce(actual::text, 'none'), HINT = a_expected[i]::text;
    END IF;
  END LOOP;
  INSERT INTO pcp_events (agent_id, seq, record) SELECT * FROM unnest(e_agent, e_seq, e_rec);
  INSERT INTO pcp_nonces (signer, nonce, agent_id, seq) SELECT * FROM unnest(n_signer, n_nonce, n_agent, n_seq);
  INSERT INTO pcp_evidence (agent_id, n, entry) SELECT * FROM unnest(x_agent, x_n, x_entry);
  DELETE FROM pcp_evidence e USING unnest(x_agent, x_n) t(agent_id, n) WHERE e.agent_id = t.agent_id AND e.n <= t.n - x_keep;
END
$fn$;`
  },
  {
    version: 3,
    name: 'pcp_write one blob',
    // The event records travel as ONE bytea (sent in binary) with their lengths, not as a bytea[] (a text
    // literal of hex escapes, twice the bytes, parsed by the server); a nonce row's agent and seq are its
    // event's. Same compare-and-set as version 2.
    sql: `
DROP FUNCTION pcp_write(text[], bigint[], bigint[], double precision[], bytea[], text[], bigint[], bytea[], text[], text[], text[], bigint[], text[], bigint[], bytea[], bigint);
CREATE FUNCTION pcp_write(
  a_id text[], a_expected bigint[], a_head bigint[], a_first double precision[], a_rec bytea[],
  e_agent text[], e_seq bigint[], e_blob bytea, e_len int[], n_signer text[], n_nonce text[],
  x_agent text[], x_n bigint[], x_entry bytea[], x_keep bigint
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  i int;
  actual bigint;
BEGIN
  FOR i IN 1 .. coalesce(array_length(a_id, 1), 0) LOOP
    UPDATE pcp_agents SET head_seq = a_head[i], record = a_rec[i] WHERE agent_id = a_id[i] AND head_seq = a_expected[i];
    IF NOT FOUND AND a_expected[i] = -1 THEN
      INSERT INTO pcp_agents (agent_id, head_seq, first_seen, record) VALUES (a_id[i], a_head[i], a_first[i], a_rec[i]) ON CONFLICT (agent_id) DO NOTHING;
    END IF;
    IF NOT FOUND THEN
      SELECT head_seq INTO actual FROM pcp_agents WHERE agent_id = a_id[i];
      RAISE EXCEPTION USING ERRCODE = 'PCP09', MESSAGE = a_id[i], DETAIL = coalesce(actual::text, 'none'), HINT = a_expected[i]::text;
    END IF;
  END LOOP;
  INSERT INTO pcp_events (agent_id, seq, record)
    SELECT a, s, substring(e_blob FROM (o - l + 1)::int FOR l)
    FROM (SELECT a, s, l, sum(l) OVER (ORDER BY k) AS o FROM unnest(e_agent, e_seq, e_len) WITH ORDINALITY t(a, s, l, k)) q;
  INSERT INTO pcp_nonces (signer, nonce, agent_id, seq) SELECT * FROM unnest(n_signer, n_nonce, e_agent, e_seq);
  INSERT INTO pcp_evidence (agent_id, n, entry) SELECT * FROM unnest(x_agent, x_n, x_entry);
  DELETE FROM pcp_evidence e USING unnest(x_agent, x_n) t(agent_id, n) WHERE e.agent_id = t.agent_id AND e.n <= t.n - x_keep;
END
$fn$;`
  },
  {
    version: 4,
    name: 'registry revision',
    // Several hubs on one store (docs/scaling.md): the agent row's record carries the registry state
    // (allowed / revoked, name, role) next to the head, and an append rewrites the whole record. With the
    // compare-and-set on head_seq alone, an append by a hub that had not yet heard of a revocation would
    // put 'allowed' back. reg_rev counts record changes that are not appends (registry, refusals); every
    // write compares it too, so that stale append loses the race and its hub re-reads the record. A write
    // that moves reg_rev tells the other hubs (NOTIFY pcp_agents, payload "<agent_id> <writer>").
    sql: `
ALTER TABLE pcp_agents ADD COLUMN reg_rev bigint NOT NULL DEFAULT 0;
DROP FUNCTION pcp_write(text[], bigint[], bigint[], double precision[], bytea[], text[], bigint[], bytea, int[], text[], text[], text[], bigint[], bytea[], bigint);
CREATE FUNCTION pcp_write(
  a_id text[], a_expected bigint[], a_head bigint[], a_first double precision[], a_rec bytea[],
  e_agent text[], e_seq bigint[], e_blob bytea, e_len int[], n_signer text[], n_nonce text[],
  x_agent text[], x_n bigint[], x_entry bytea[], x_keep bigint,
  a_rev_expected bigint[], a_rev bigint[], writer text
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  i int;
  actual bigint;
BEGIN
  FOR i IN 1 .. coalesce(array_length(a_id, 1), 0) LOOP
    UPDATE pcp_agents SET head_seq = a_head[i], record = a_rec[i], reg_rev = a_rev[i]
      WHERE agent_id = a_id[i] AND head_seq = a_expected[i] AND reg_rev = a_rev_expected[i];
    IF NOT FOUND AND a_expected[i] = -1 AND a_rev_expected[i] = 0 THEN
      INSERT INTO pcp_agents (agent_id, head_seq, first_seen, record, reg_rev) VALUES (a_id[i], a_head[i], a_first[i], a_rec[i], a_rev[i]) ON CONFLICT (agent_id) DO NOTHING;
    END IF;
    IF NOT FOUND THEN
      SELECT head_seq INTO actual FROM pcp_agents WHERE agent_id = a_id[i];
      RAISE EXCEPTION USING ERRCODE = 'PCP09', MESSAGE = a_id[i], DETAIL = coalesce(actual::text, 'none'), HINT = a_expected[i]::text;
    END IF;
    IF a_rev[i] <> a_rev_expected[i] THEN PERFORM pg_notify('pcp_agents', a_id[i] || ' ' || writer); END IF;
  END LOOP;
  INSERT INTO pcp_events (agent_id, seq, record)
    SELECT a, s, substring(e_blob FROM (o - l + 1)::int FOR l)
    FROM (SELECT a, s, l, sum(l) OVER (ORDER BY k) AS o FROM unnest(e_agent, e_seq, e_len) WITH ORDINALITY t(a, s, l, k)) q;
  INSERT INTO pcp_nonces (signer, nonce, agent_id, seq) SELECT * FROM unnest(n_signer, n_nonce, e_agent, e_seq);
  INSERT INTO pcp_evidence (agent_id, n, entry) SELECT * FROM unnest(x_agent, x_n, x_entry);
  DELETE FROM pcp_evidence e USING unnest(x_agent, x_n) t(agent_id, n) WHERE e.agent_id = t.agent_id AND e.n <= t.n - x_keep;
END
$fn$;`
  },
  {
    version: 5,
    name: 'trustgate',
    // TrustGate's state for several hubs (hub/trustgate/pg-state.ts): the identity that signs the journal,
    // the journal as one chain (the primary key on seq is what keeps two hubs from forking it), and the
    // policy versions by the hash of their bytes. Rows are only ever inserted.
    sql: `
CREATE TABLE pcp_tg_identity (
  one      boolean PRIMARY KEY DEFAULT true CHECK (one),
  agent_id text NOT NULL,
  document text NOT NULL
);
CREATE TABLE pcp_tg_journal (
  seq   bigint PRIMARY KEY CHECK (seq >= 0),
  hash  text NOT NULL,
  event text NOT NULL
);
CREATE TABLE pcp_tg_policies (
  version text PRIMARY KEY,
  bytes   bytea NOT NULL
);`
  },
  {
    version: 6,
    name: 'trustgate principals',
    // The humans who answer for TrustGate, one row each (hub/trustgate/pg-principals.ts): the record the
    // file store keeps, token hash included, never the token. Names are unique across every hub.
    sql: `
CREATE TABLE pcp_tg_principals (
  id   text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  doc  text NOT NULL
);`
  }
]

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version

// Any constant: hubs starting together on one database take turns migrating it.
const MIGRATION_LOCK = 0x70637031

/** Applies the migrations the database lacks; returns the versions applied now. */
export async function migrate (pool: Pool, where: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect()
  const applied: number[] = []
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS pcp_schema_migrations (
        version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM pcp_schema_migrations')
      const current = rows[0]?.v ?? 0
      const known = migrations.at(-1)?.version ?? 0
      if (current > known) {
        throw new PcpError(HubStoreErrorCodes.STORE_SCHEMA_NEWER, `the hub store ${where} has schema version ${current}, newer than this hub's ${known}: upgrade pcp-edge before starting this hub on it`,
          { file: where, actual: current, expected: known })
      }
      for (const m of migrations) {
        if (m.version <= current) continue
        await client.query('BEGIN')
        try {
          await client.query(m.sql)
          await client.query('INSERT INTO pcp_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {})
          throw new PcpError(HubStoreErrorCodes.STORE_MIGRATION_FAILED, `migration ${m.version} (${m.name}) of the hub store ${where} failed: ${(err as Error).message}`, { file: where, index: m.version, cause: err })
        }
        applied.push(m.version)
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    }
  } finally { client.release() }
  return applied
}
