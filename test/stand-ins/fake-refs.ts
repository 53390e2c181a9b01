// Branches and tags of a stand-in repository: a branch names a commit; a tag names a commit
// (lightweight) or a tag object with a message that names it (annotated), as in git. Shared by the
// GitHub and GitLab stand-ins, which serve them in their own shapes.
import { createHash } from "node:crypto";
import type { FakeRepository } from "./fake-repository";

export interface TagRecord {
  name: string;
  /** The commit the tag ends at. */
  commit: string;
  /** Annotated tags: the tag object and its message. */
  annotation?: { sha: string; message: string };
}

export class FakeRefs {
  private readonly branches = new Map<string, string>();
  private readonly tags = new Map<string, TagRecord>();

  constructor(private readonly repo: FakeRepository) {}

  setBranch(name: string, sha: string): void {
    if (!this.repo.hasCommit(sha)) throw new Error(`stand-in: no commit ${sha} in ${this.repo.fullName}`);
    this.branches.set(name, sha);
  }

  setTag(name: string, sha: string, message?: string): void {
    if (!this.repo.hasCommit(sha)) throw new Error(`stand-in: no commit ${sha} in ${this.repo.fullName}`);
    const annotation = message === undefined ? undefined : { sha: createHash("sha1").update(`tag ${name}\0${sha}\0${message}`).digest("hex"), message };
    this.tags.set(name, { name, commit: sha, ...(annotation ? { annotation } : {}) });
  }

  branch(name: string): string | undefined {
    return this.branches.get(name);
  }

  tag(name: string): TagRecord | undefined {
    return this.tags.get(name);
  }

  /** The annotated tag whose tag object has this id. */
  tagObject(sha: string): TagRecord | undefined {
    return [...this.tags.values()].find((tag) => tag.annotation?.sha === sha);
  }

  /**
   * What the forges' commits endpoints accept as a ref: a branch, a tag, a full sha or an
   * unambiguous prefix of one (at least 4 hex digits).
   */
  commitFor(ref: string): string | undefined {
    const named = this.branches.get(ref) ?? this.tags.get(ref)?.commit;
    if (named) return named;
    if (!/^[0-9a-f]{4,40}$/i.test(ref)) return undefined;
    const matches = this.repo.commitsStartingWith(ref.toLowerCase());
    return matches.length === 1 ? matches[0] : undefined;
  }
}
