"""Git-like object storage for the local GitHub: blobs, trees, commits, addressed by SHA-1.

Objects hash exactly as git hashes them (`<type> <size>\\0<body>`), so SHAs look real and
identical content always gets the identical SHA, which the contents API relies on for its
optimistic-concurrency `sha` checks.
"""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field

FILE_MODE = "100644"
TREE_MODE = "040000"


@dataclass(frozen=True)
class Blob:
    sha: str
    data: bytes


@dataclass(frozen=True)
class TreeEntry:
    path: str  # one name, no slashes
    mode: str
    type: str  # "blob" | "tree"
    sha: str


@dataclass(frozen=True)
class Tree:
    sha: str
    entries: tuple[TreeEntry, ...]


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    date: str  # ISO 8601


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: Signature
    committer: Signature
    author_login: str | None = None  # the GitHub user behind the commit, for CONTRIBUTOR


def _hash(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


@dataclass
class ObjectStore:
    """All objects of one repository network (a repo and its forks share objects, as on GitHub)."""

    blobs: dict[str, Blob] = field(default_factory=dict)
    trees: dict[str, Tree] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def put_blob(self, data: bytes) -> Blob:
        blob = Blob(_hash("blob", data), data)
        self.blobs.setdefault(blob.sha, blob)
        return blob

    def put_tree(self, entries: list[TreeEntry]) -> Tree:
        ordered = tuple(sorted(entries, key=lambda e: e.path))
        body = b"".join(
            f"{e.mode.lstrip('0')} {e.path}\0".encode() + bytes.fromhex(e.sha) for e in ordered
        )
        tree = Tree(_hash("tree", body), ordered)
        self.trees.setdefault(tree.sha, tree)
        return tree

    def put_commit(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Signature,
        committer: Signature,
        author_login: str | None = None,
    ) -> Commit:
        lines = [f"tree {tree}"] + [f"parent {p}" for p in parents]
        lines += [f"author {author.name} <{author.email}> {author.date}"]
        lines += [f"committer {committer.name} <{committer.email}> {committer.date}", "", message]
        sha = _hash("commit", "\n".join(lines).encode())
        commit = Commit(sha, tree, tuple(parents), message, author, committer, author_login)
        self.commits.setdefault(sha, commit)
        return self.commits[sha]

    # -- reading ---------------------------------------------------------------------------

    def files(self, tree_sha: str, prefix: str = "") -> dict[str, str]:
        """Every file under a tree, as {path: blob sha}."""
        found: dict[str, str] = {}
        for entry in self.trees[tree_sha].entries:
            path = f"{prefix}{entry.path}"
            if entry.type == "tree":
                found.update(self.files(entry.sha, path + "/"))
            else:
                found[path] = entry.sha
        return found

    def entry_at(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The tree entry at `path` ("" means the root tree itself)."""
        if path in ("", "/"):
            return TreeEntry("", TREE_MODE, "tree", tree_sha)
        current = tree_sha
        parts = path.strip("/").split("/")
        for index, name in enumerate(parts):
            match = next((e for e in self.trees[current].entries if e.path == name), None)
            if match is None:
                return None
            if index == len(parts) - 1:
                return match
            if match.type != "tree":
                return None
            current = match.sha
        return None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is reachable from `descendant` (fast-forward check)."""
        pending, seen = [descendant], set()
        while pending:
            sha = pending.pop()
            if sha == ancestor:
                return True
            if sha in seen or sha not in self.commits:
                continue
            seen.add(sha)
            pending.extend(self.commits[sha].parents)
        return False

    # -- writing ---------------------------------------------------------------------------

    def tree_with(self, base_tree: str | None, changes: dict[str, str | None]) -> Tree:
        """A new tree: `base_tree`'s files with `changes` ({path: blob sha, or None to delete})."""
        files = self.files(base_tree) if base_tree else {}
        for path, sha in changes.items():
            if sha is None:
                files.pop(path.strip("/"), None)
            else:
                files[path.strip("/")] = sha
        return self.tree_from_files(files)

    def tree_from_files(self, files: dict[str, str]) -> Tree:
        """Build nested trees from a flat {path: blob sha} map."""
        direct: list[TreeEntry] = []
        nested: dict[str, dict[str, str]] = {}
        for path, sha in files.items():
            head, _, rest = path.partition("/")
            if rest:
                nested.setdefault(head, {})[rest] = sha
            else:
                direct.append(TreeEntry(head, FILE_MODE, "blob", sha))
        for name, sub in nested.items():
            direct.append(TreeEntry(name, TREE_MODE, "tree", self.tree_from_files(sub).sha))
        return self.put_tree(direct)

    def text(self, blob_sha: str | None) -> str:
        if blob_sha is None:
            return ""
        return self.blobs[blob_sha].data.decode("utf-8", errors="replace")


# -- diffs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One file of a PR diff, as GitHub's "files" listing describes it."""

    path: str
    status: str  # added | removed | modified
    sha: str | None  # blob sha at head (None when removed)
    additions: int
    deletions: int
    patch: str  # unified diff hunks, starting at the first "@@"


def file_patch(old: str, new: str) -> str:
    """The hunks of a unified diff (three lines of context), without the ---/+++ header."""
    lines = list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3)
    )
    return "\n".join(lines[2:])


def compare_trees(store: ObjectStore, base_tree: str, head_tree: str) -> list[FileChange]:
    base, head = store.files(base_tree), store.files(head_tree)
    changes: list[FileChange] = []
    for path in sorted(set(base) | set(head)):
        if base.get(path) == head.get(path):
            continue
        patch = file_patch(store.text(base.get(path)), store.text(head.get(path)))
        body = patch.splitlines()
        additions = sum(1 for line in body if line.startswith("+"))
        deletions = sum(1 for line in body if line.startswith("-"))
        status = "added" if path not in base else "removed" if path not in head else "modified"
        changes.append(FileChange(path, status, head.get(path), additions, deletions, patch))
    return changes


@dataclass(frozen=True)
class DiffAnchor:
    """Where a line comment sits in a file's patch."""

    position: int  # 1 = the line after the first @@ header
    diff_hunk: str  # from the enclosing @@ header down to the commented line


def anchor_in_patch(patch: str, line: int, side: str) -> DiffAnchor | None:
    """Locate `line` (of the RIGHT = new, or LEFT = old file) in a patch; None if not in it."""
    old_no = new_no = 0
    hunk_start = 0
    lines = patch.splitlines()
    for index, text in enumerate(lines):
        if text.startswith("@@"):
            header = text.split("@@")[1].split()
            old_no = int(header[0][1:].split(",")[0]) - 1
            new_no = int(header[1][1:].split(",")[0]) - 1
            hunk_start = index
            continue
        on_left = not text.startswith("+")
        on_right = not text.startswith("-")
        old_no += on_left
        new_no += on_right
        hit = (side == "RIGHT" and on_right and new_no == line) or (
            side == "LEFT" and on_left and old_no == line
        )
        if hit:
            return DiffAnchor(index, "\n".join(lines[hunk_start : index + 1]))
    return None


def merge_base(store: ObjectStore, one: str, other: str) -> str | None:
    """The nearest common ancestor of two commits (what a PR's three-dot diff starts from)."""
    ancestors, pending = set(), [one]
    while pending:
        sha = pending.pop()
        if sha in ancestors or sha not in store.commits:
            continue
        ancestors.add(sha)
        pending.extend(store.commits[sha].parents)
    queue = [other]
    seen: set[str] = set()
    while queue:
        sha = queue.pop(0)
        if sha in ancestors:
            return sha
        if sha in seen or sha not in store.commits:
            continue
        seen.add(sha)
        queue.extend(store.commits[sha].parents)
    return None
