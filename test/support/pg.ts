// PostgreSQL for the store tests: PCP_TEST_PG_URL names a server (CI: the one on 127.0.0.1:5432); each
// test gets a database of its own, with a random name, dropped afterwards. No URL, or a server that does
// not answer: the PG tests skip and say why (pgSkipReason).
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const ADMIN_URL = process.env.PCP_TEST_PG_URL

async function probe (): Promise<string | null> {
  if (!ADMIN_URL) return 'PCP_TEST_PG_URL is not set'
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 })
  try { await c.connect(); await c.query('SELECT 1'); return null } catch (err) {
    return `PostgreSQL at ${ADMIN_URL} is unreachable: ${(err as Error).message}`
  } finally { await c.end().catch(() => {}) }
}

/** Why the PG tests cannot run here, or null when they can. */
export const pgSkipReason: string | null = await probe()

export interface TestDb { url: string, name: string, query: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>, drop: () => Promise<void> }

/** A fresh, empty database on the PCP_TEST_PG_URL server. */
export async function createTestDb (): Promise<TestDb> {
  const name = `pcp_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  try { await admin.query(`CREATE DATABASE ${name}`) } finally { await admin.end() }
  const u = new URL(ADMIN_URL!); u.pathname = '/' + name
  const url = u.toString()
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  pool.on('error', () => {})
  return {
    url,
    name,
    query: (sql, params) => pool.query(sql, params as unknown[]),
    drop: async () => {
      await pool.end().catch(() => {})
      const a = new pg.Client({ connectionString: ADMIN_URL })
      await a.connect()
      try { await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) } finally { await a.end() }
    }
  }
}
