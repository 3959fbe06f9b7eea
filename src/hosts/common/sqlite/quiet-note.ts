/**
 * The note a replica keeps of its last quiet state (term and leader) in its `raft_state` table,
 * written in the same transaction as the driver pass that quiesced or woke it, so a replica that
 * restarts (a hibernated Durable Object, a restarted node) resumes quiet instead of campaigning.
 */
import type { QuietNote, QuietNoteStore } from "../replica-runtime.ts";
import { ScopedStatements, type SqlRunner } from "./schema.ts";

/** A QuietNoteStore over one replica's SQLite database, or over its rows (`scope`) of a node's shared one. */
export function sqliteQuietNote(sql: SqlRunner, scope?: string): QuietNoteStore {
  const statements = new ScopedStatements(sql, scope, {
    own: {
      read: "SELECT value FROM raft_state WHERE name = 'quiet'",
      remove: "DELETE FROM raft_state WHERE name = 'quiet'",
      write: "INSERT INTO raft_state (name, value) VALUES ('quiet', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    },
    shared: {
      read: "SELECT value FROM raft_state WHERE scope = ? AND name = 'quiet'",
      remove: "DELETE FROM raft_state WHERE scope = ? AND name = 'quiet'",
      write: "INSERT INTO raft_state (scope, name, value) VALUES (?, 'quiet', ?) ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value",
    },
  });
  return {
    read(): QuietNote | undefined {
      const row = statements.exec("read").toArray()[0];
      if (row === undefined) return undefined;
      const note = JSON.parse(String(row.value)) as Partial<QuietNote>;
      return Number.isSafeInteger(note.term) && Number.isSafeInteger(note.leader) ? { term: note.term!, leader: note.leader! } : undefined;
    },
    write(note: QuietNote | undefined): void {
      if (note === undefined) statements.exec("remove");
      else statements.exec("write", JSON.stringify(note));
    },
  };
}
