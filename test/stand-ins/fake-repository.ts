// A repository's history as the forge stand-ins serve it: commits with their whole file trees,
// git-style object ids for blobs and trees, and diffs between commits.
import { createHash, randomBytes } from "node:crypto";

export interface FileChange {
  path: string;
  status: "added" | "modified" | "removed";
}

export interface DirEntry {
  name: string;
  /** Full path from the root. */
  path: string;
  type: "blob" | "tree";
  /** Blob id (git's sha1 of "blob <len>\0<content>") or tree id. */
  sha: string;
  size?: number;
}

export function blobSha(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

export class FakeRepository {
  private readonly commits = new Map<string, { files: Map<string, string>; parent?: string }>();
  /** Tree id → the directory of a commit it was made for. */
  private readonly trees = new Map<string, { commit: string; dir: string }>();
  private readonly blobs = new Map<string, string>();

  constructor(
    readonly fullName: string,
    readonly id: number,
    readonly defaultBranch = "main",
  ) {}

  /**
   * Records a commit with exactly these files and returns its id: `sha` when given (a real git
   * commit of the same files, for tests whose jobs clone it), else a random one.
   */
  commit(files: Record<string, string>, parent?: string, sha = randomBytes(20).toString("hex")): string {
    this.commits.set(sha, { files: new Map(Object.entries(files)), ...(parent ? { parent } : {}) });
    for (const content of Object.values(files)) this.blobs.set(blobSha(content), content);
    return sha;
  }

  hasCommit(sha: string): boolean {
    return this.commits.has(sha);
  }

  /** Commit ids with this prefix: a forge resolves an abbreviated sha when only one matches. */
  commitsStartingWith(prefix: string): string[] {
    return [...this.commits.keys()].filter((sha) => sha.startsWith(prefix));
  }

  parentOf(sha: string): string | undefined {
    return this.commits.get(sha)?.parent;
  }

  fileAt(sha: string, path: string): string | undefined {
    return this.commits.get(sha)?.files.get(path);
  }

  isDirAt(sha: string, path: string): boolean {
    const files = this.commits.get(sha)?.files;
    if (!files) return false;
    if (path === "") return true;
    for (const file of files.keys()) if (file.startsWith(`${path}/`)) return true;
    return false;
  }

  blob(sha: string): string | undefined {
    return this.blobs.get(sha);
  }

  /** The direct entries of `dir` ("" for the root) at a commit; undefined when it is not a directory there. */
  list(commitSha: string, dir: string): DirEntry[] | undefined {
    const files = this.commits.get(commitSha)?.files;
    if (!files || !this.isDirAt(commitSha, dir)) return undefined;
    const prefix = dir === "" ? "" : `${dir}/`;
    const entries = new Map<string, DirEntry>();
    for (const [path, content] of files) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash < 0) {
        entries.set(rest, { name: rest, path, type: "blob", sha: blobSha(content), size: Buffer.byteLength(content) });
      } else {
        const name = rest.slice(0, slash);
        if (!entries.has(name)) entries.set(name, { name, path: prefix + name, type: "tree", sha: this.treeSha(commitSha, prefix + name) });
      }
    }
    return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  treeSha(commitSha: string, dir: string): string {
    const sha = createHash("sha1").update(`tree ${commitSha}:${dir}`).digest("hex");
    this.trees.set(sha, { commit: commitSha, dir });
    return sha;
  }

  /** A tree id, or a commit id (whose root tree it names), → commit and directory. */
  resolveTree(sha: string): { commit: string; dir: string } | undefined {
    if (this.commits.has(sha)) return { commit: sha, dir: "" };
    return this.trees.get(sha);
  }

  diff(from: string, to: string): FileChange[] | undefined {
    const a = this.commits.get(from)?.files;
    const b = this.commits.get(to)?.files;
    if (!a || !b) return undefined;
    const changes: FileChange[] = [];
    for (const [path, content] of b) {
      if (!a.has(path)) changes.push({ path, status: "added" });
      else if (a.get(path) !== content) changes.push({ path, status: "modified" });
    }
    for (const path of a.keys()) if (!b.has(path)) changes.push({ path, status: "removed" });
    return changes.sort((x, y) => x.path.localeCompare(y.path));
  }
}
