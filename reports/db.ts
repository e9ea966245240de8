/**
 * The results database a team accumulates runs in: SQLite (`node:sqlite`, a file) or PostgreSQL
 * (`postgres://…`, the `postgres` client), one schema for both, created and upgraded by numbered
 * migrations recorded in `schema_migrations`. A run's id is the hash of its results file, so
 * recording the same run twice leaves one row.
 *
 * @example
 * ```ts ignore
 * import { openResultsDb } from "./db.ts";
 * await using db = await openResultsDb("results.sqlite");
 * console.log(await db.record(runs)); // { added: 3, present: 0 }
 * ```
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import type { TestRecord } from "../suites/results.ts";
import type { ReportRun } from "./runs.ts";

/** The schema, one step per migration (portable SQL: SQLite and PostgreSQL). */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    timestamp TEXT NOT NULL,
    suite TEXT NOT NULL,
    spec_name TEXT,
    spec_version INTEGER,
    complete INTEGER NOT NULL,
    moebench_version TEXT NOT NULL,
    moebench_commit TEXT,
    profile TEXT NOT NULL,
    cpu TEXT,
    gpu TEXT,
    model TEXT,
    score DOUBLE PRECISION,
    results TEXT NOT NULL
  );
  CREATE TABLE records (
    run_id TEXT NOT NULL REFERENCES runs (id),
    engine TEXT NOT NULL,
    position INTEGER NOT NULL,
    suite TEXT NOT NULL,
    test TEXT NOT NULL,
    model TEXT NOT NULL,
    type TEXT NOT NULL,
    backend TEXT,
    threads INTEGER,
    config TEXT NOT NULL,
    budget_share DOUBLE PRECISION,
    policy TEXT,
    unit TEXT NOT NULL,
    mean DOUBLE PRECISION NOT NULL,
    stddev DOUBLE PRECISION NOT NULL,
    median DOUBLE PRECISION NOT NULL,
    min DOUBLE PRECISION NOT NULL,
    max DOUBLE PRECISION NOT NULL,
    samples INTEGER NOT NULL,
    PRIMARY KEY (run_id, engine, position)
  );
  CREATE INDEX records_by_test ON records (test, model, config)`,
];

type Value = string | number | null;

/** What the two databases share: SQL with `?` placeholders. */
interface Connection {
  exec(sql: string): Promise<void>;
  query(sql: string, params?: readonly Value[]): Promise<Record<string, unknown>[]>;
  transaction<T>(work: (tx: Connection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A results database. */
export interface ResultsDb extends AsyncDisposable {
  /** The schema version after migrating. */
  readonly version: number;
  /** Records `runs`: the new ones are added, the ones already there left as they are. */
  record(runs: readonly ReportRun[]): Promise<{ added: number; present: number }>;
  /** Rows of `runs`: id, suite, profile, score, … (newest first). */
  runs(): Promise<Record<string, unknown>[]>;
  /** How many records a run has. */
  recordCount(id: string): Promise<number>;
}

/** A database that cannot be opened or used; the message says which and why. */
export class ResultsDbError extends Error {
  override name = "ResultsDbError";
}

/** Opens (creating and migrating) the database at `target`: a file, or a postgres:// URL. */
export async function openResultsDb(target: string): Promise<ResultsDb> {
  const connection = /^postgres(ql)?:\/\//.test(target)
    ? await openPostgres(target)
    : openSqlite(target);
  try {
    const version = await migrate(connection);
    return resultsDb(connection, version);
  } catch (error) {
    await connection.close();
    if (error instanceof ResultsDbError) throw error;
    throw new ResultsDbError(`${redact(target)}: ${(error as Error).message}`);
  }
}

/** A URL without its password, for messages. */
const redact = (target: string) => target.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");

function openSqlite(path: string): Connection {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new ResultsDbError(
      `${path}: cannot open the SQLite database (${(error as Error).message})`,
    );
  }
  const connection: Connection = {
    exec: (sql) => Promise.resolve(db.exec(sql)),
    query: (sql, params = []) =>
      Promise.resolve(db.prepare(sql).all(...params) as Record<string, unknown>[]),
    async transaction(work) {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(connection);
        db.exec("COMMIT");
        return result;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    close: () => Promise.resolve(db.close()),
  };
  return connection;
}

async function openPostgres(url: string): Promise<Connection> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const numbered = (query: string) => {
    let n = 0;
    return query.replace(/\?/g, () => `$${++n}`);
  };
  const over = (client: postgres.Sql | postgres.TransactionSql): Connection => ({
    exec: async (query) => {
      await client.unsafe(query);
    },
    query: async (
      query,
      params = [],
    ) => [...await client.unsafe(numbered(query), params as postgres.ParameterOrJSON<never>[])],
    transaction: (work) =>
      sql.begin((tx) => work(over(tx))) as Promise<Awaited<ReturnType<typeof work>>>,
    close: () => sql.end({ timeout: 5 }),
  });
  try {
    await sql`SELECT 1`;
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new ResultsDbError(
      `${redact(url)}: cannot connect to PostgreSQL (${(error as Error).message})`,
    );
  }
  return over(sql);
}

/** Applies the migrations not yet applied, each in its transaction; returns the version. */
async function migrate(db: Connection): Promise<number> {
  await db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)",
  );
  const rows = await db.query("SELECT MAX(version) AS version FROM schema_migrations");
  const current = Number(rows[0]?.version ?? 0);
  if (current > MIGRATIONS.length) {
    throw new ResultsDbError(
      `the database is at schema version ${current}, newer than this moebench knows ` +
        `(${MIGRATIONS.length})`,
    );
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    await db.transaction(async (tx) => {
      for (const statement of MIGRATIONS[version - 1]!.split(";")) {
        if (statement.trim()) await tx.exec(statement);
      }
      await tx.query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", [
        version,
        new Date().toISOString(),
      ]);
    });
  }
  return MIGRATIONS.length;
}

function resultsDb(db: Connection, version: number): ResultsDb {
  return {
    version,
    async record(runs) {
      let added = 0;
      for (const run of runs) {
        const inserted = await db.transaction(async (tx) => {
          const rows = await tx.query(
            `INSERT INTO runs (id, timestamp, suite, spec_name, spec_version, complete,
               moebench_version, moebench_commit, profile, cpu, gpu, model, score, results)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING RETURNING id`,
            runRow(run),
          );
          if (rows.length === 0) return false; // recorded before
          const all = [
            ...run.results.tests.map((r, i) => ["moebench", i, r] as const),
            ...run.results.peers.map((r, i) => ["llama.cpp", i, r] as const),
          ];
          for (const [engine, position, record] of all) {
            await tx.query(
              `INSERT INTO records (run_id, engine, position, suite, test, model, type, backend,
                 threads, config, budget_share, policy, unit, mean, stddev, median, min, max,
                 samples)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              [run.id, engine, position, ...recordRow(record)],
            );
          }
          return true;
        });
        if (inserted) added++;
      }
      return { added, present: runs.length - added };
    },
    runs: () =>
      db.query(
        "SELECT id, timestamp, suite, spec_name, spec_version, profile, cpu, model, score " +
          "FROM runs ORDER BY timestamp DESC, id",
      ),
    async recordCount(id) {
      const rows = await db.query("SELECT COUNT(*) AS n FROM records WHERE run_id = ?", [id]);
      return Number(rows[0]?.n ?? 0);
    },
    [Symbol.asyncDispose]: () => db.close(),
  };
}

function runRow(run: ReportRun): Value[] {
  const { results } = run;
  const gpu = results.machine.hardware.gpu;
  return [
    run.id,
    results.timestamp,
    results.suite,
    results.spec?.name ?? null,
    results.spec?.version ?? null,
    results.complete ? 1 : 0,
    results.moebench.version,
    results.moebench.commit,
    results.machine.profile,
    results.machine.hardware.cpu.model.value,
    gpu ? gpu.description.value : null,
    results.models[0]?.id ?? null,
    results.score?.value ?? null,
    JSON.stringify(results),
  ];
}

function recordRow(r: TestRecord): Value[] {
  return [
    r.suite,
    r.test,
    r.model,
    r.type,
    r.backend,
    r.threads,
    r.config,
    r.budget_share,
    r.policy,
    r.unit,
    r.mean,
    r.stddev,
    r.median,
    r.min,
    r.max,
    r.samples.length,
  ];
}
