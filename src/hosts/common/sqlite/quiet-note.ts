/**
 * The note a replica keeps of its last quiet state (term and leader) in its `raft_state` table,
 * written in the same transaction as the driver pass that quiesced or woke it, so a replica that
 * restarts (a hibernated Durable Object, a restarted node) resumes quiet instead of campaigning.
 */
import type { QuietNote, QuietNoteStore } from "../replica-runtime.ts";
import type { SqlRunner } from "./schema.ts";

/** A QuietNoteStore over one replica's SQLite database. */
export function sqliteQuietNote(sql: SqlRunner): QuietNoteStore {
  return {
    read(): QuietNote | undefined {
      const row = sql.exec("SELECT value FROM raft_state WHERE name = 'quiet'").toArray()[0];
      if (row === undefined) return undefined;
      const note = JSON.parse(String(row.value)) as Partial<QuietNote>;
      return Number.isSafeInteger(note.term) && Number.isSafeInteger(note.leader) ? { term: note.term!, leader: note.leader! } : undefined;
    },
    write(note: QuietNote | undefined): void {
      if (note === undefined) sql.exec("DELETE FROM raft_state WHERE name = 'quiet'");
      else sql.exec("INSERT INTO raft_state (name, value) VALUES ('quiet', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", JSON.stringify(note));
    },
  };
}
