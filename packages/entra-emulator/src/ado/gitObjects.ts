import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/**
 * Git objects computed in process, so that a seeded repository has its real commit, tree and
 * blob ids before anything is written to disk, and thousands of repositories cost no `git`
 * processes. The ids equal the ones `git` computes for the same content.
 */

/** A file of a snapshot: content and git mode (`100644`, `100755`, `120000`). */
export interface SnapshotFile {
  content: Buffer;
  mode: string;
  objectId: string;
}

/** The tree of one commit: files by path (no leading slash) and tree ids by folder path. */
export interface Snapshot {
  files: Map<string, SnapshotFile>;
  /** Folder path (`''` for the root) to tree id. */
  trees: Map<string, string>;
}

/** Raw (uncompressed) objects by id, waiting to be written to a repository. */
export type ObjectSink = Map<string, Buffer>;

function hashObject(
  type: 'blob' | 'tree' | 'commit',
  body: Buffer,
  sink: ObjectSink,
): string {
  const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  const id = createHash('sha1').update(raw).digest('hex');
  sink.set(id, raw);
  return id;
}

export function blobId(content: Buffer, sink: ObjectSink = new Map()): string {
  return hashObject('blob', content, sink);
}

interface Dir {
  files: Map<string, SnapshotFile>;
  dirs: Map<string, Dir>;
}

/** Builds the blobs and trees of a set of files; returns the snapshot with every id. */
export function buildSnapshot(
  input: Iterable<[string, { content: Buffer; mode?: string }]>,
  sink: ObjectSink,
): { treeId: string; snapshot: Snapshot } {
  const root: Dir = { files: new Map(), dirs: new Map() };
  const files = new Map<string, SnapshotFile>();
  for (const [p, f] of input) {
    const parts = p.split('/');
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      let next = dir.dirs.get(part);
      if (!next) {
        next = { files: new Map(), dirs: new Map() };
        dir.dirs.set(part, next);
      }
      dir = next;
    }
    const file = {
      content: f.content,
      mode: f.mode ?? '100644',
      objectId: hashObject('blob', f.content, sink),
    };
    dir.files.set(parts[parts.length - 1], file);
    files.set(p, file);
  }
  const trees = new Map<string, string>();
  const writeDir = (dir: Dir, at: string): string => {
    const entries: Array<{ sortKey: string; bytes: Buffer }> = [];
    for (const [n, f] of dir.files) {
      entries.push({
        sortKey: n,
        bytes: Buffer.concat([
          Buffer.from(`${f.mode} ${n}\0`),
          Buffer.from(f.objectId, 'hex'),
        ]),
      });
    }
    for (const [n, d] of dir.dirs) {
      const id = writeDir(d, at ? `${at}/${n}` : n);
      // Git orders a folder as if its name ended with '/'.
      entries.push({
        sortKey: `${n}/`,
        bytes: Buffer.concat([
          Buffer.from(`40000 ${n}\0`),
          Buffer.from(id, 'hex'),
        ]),
      });
    }
    entries.sort((a, b) =>
      Buffer.compare(Buffer.from(a.sortKey), Buffer.from(b.sortKey)),
    );
    const id = hashObject(
      'tree',
      Buffer.concat(entries.map(e => e.bytes)),
      sink,
    );
    trees.set(at, id);
    return id;
  };
  const treeId = writeDir(root, '');
  return { treeId, snapshot: { files, trees } };
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
}

/** Builds a commit object; returns its id. */
export function buildCommit(
  treeId: string,
  parents: string[],
  author: Signature,
  message: string,
  sink: ObjectSink,
): string {
  const sig = `${author.name} <${author.email}> ${author.time} +0000`;
  const parentLines = parents.map(p => `parent ${p}\n`).join('');
  const body = message.endsWith('\n') ? message : `${message}\n`;
  const text = `tree ${treeId}\n${parentLines}author ${sig}\ncommitter ${sig}\n\n${body}`;
  return hashObject('commit', Buffer.from(text), sink);
}

/** Creates an empty bare repository (what `git init --bare` writes that git needs). */
export function initBareRepository(dir: string, headBranch: string): void {
  for (const sub of [
    'objects/info',
    'objects/pack',
    'refs/heads',
    'refs/tags',
  ]) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  fs.writeFileSync(
    path.join(dir, 'config'),
    '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n',
  );
  setHead(dir, headBranch);
}

export function setHead(dir: string, branch: string): void {
  fs.writeFileSync(path.join(dir, 'HEAD'), `ref: refs/heads/${branch}\n`);
}

/** Writes objects as loose objects (skipping those already there) into a bare repository. */
export function writeObjects(dir: string, sink: ObjectSink): void {
  for (const [id, raw] of sink) {
    const folder = path.join(dir, 'objects', id.slice(0, 2));
    const file = path.join(folder, id.slice(2));
    if (fs.existsSync(file)) continue;
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(file, zlib.deflateSync(raw));
  }
  sink.clear();
}

export function writeRef(dir: string, branch: string, commitId: string): void {
  const file = path.join(dir, 'refs', 'heads', ...branch.split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${commitId}\n`);
}
