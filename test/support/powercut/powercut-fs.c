// TEST STAND-IN for a disk that loses power: a FUSE filesystem whose "disk" is a backing directory and
// whose "page cache" is this process's memory. Used by test/store-powercut.test.ts; built by
// test/support/powercut.ts with libfuse3 (Debian: libfuse3-dev).
//
// What it models (deliberately harsher than ext4 with data=ordered, never kinder):
//  - File data reaches the backing dir only when that file is fsync'ed or fdatasync'ed. Reads are
//    served from memory, so the writer sees its own unsynced writes (and so do mmap and pread).
//  - Directory operations (create, mkdir, rename, unlink, rmdir, chmod) go into one ordered journal,
//    as ext4's are. The whole journal is committed, in order, when a directory is fsynced or when a
//    file is fsynced that was created or changed size since it was last synced (ext4 then commits
//    its running transaction, which holds every earlier directory operation). An fsync of a file
//    that was only overwritten in place commits nothing, as on ext4. So a new file's first fsync makes
//    its name durable too, which LevelDB 1.20 relies on (it fsyncs the directory for its MANIFEST
//    only, not for new log files); filesystems that need a directory fsync for that are not modelled.
//  - SIGKILL of this process is a power cut that loses everything unsynced. SIGUSR1 is a power cut
//    after some background writeback: a random prefix (seeded by PCP_POWERCUT_SEED) of the journal is
//    committed, and each dirty file keeps a random prefix, torn at any byte, of its unsynced range.
//    This writeback is in order within a file; SIGPWR below makes holes.
//    SIGUSR2 is a power cut just after ext4's periodic journal commit: every directory operation is
//    committed, no unsynced data is written back (delayed allocation keeps data out of the journal).
//    SIGPWR is a power cut on a disk whose cache reordered the writes: a random journal prefix, and a
//    random subset of each dirty file's unsynced 4 KB pages (holes in the unsynced data).
//  - Not modelled: hard links and symlinks (refused), xattrs, timestamps and owners on the disk.
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

struct node {
  char *path;                  // live path ("/a/b"); NULL once unlinked
  char *dpath;                 // path on the disk; NULL while its creation is not committed
  int dir; mode_t mode;
  unsigned char *data; size_t size, cap;
  size_t dirty_lo, dirty_hi;   // bytes changed since the last sync (lo >= hi: none)
  size_t synced_size;
  struct node *next;
};
enum { OP_CREATE, OP_MKDIR, OP_RENAME, OP_UNLINK, OP_RMDIR, OP_CHMOD };
struct op { int kind; char *a, *b; struct node *n; mode_t mode; struct op *next; };

static struct node *nodes;
static struct op *journal, **journal_tail = &journal;
static int journal_len;
static char backing[4096];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#define LOCKED(expr) do { pthread_mutex_lock(&lock); int r_ = (expr); pthread_mutex_unlock(&lock); return r_; } while (0)

static char *disk (const char *p) { static char b[8192]; snprintf(b, sizeof b, "%s%s", backing, p); return b; }
static void clean (struct node *n) { n->dirty_lo = SIZE_MAX; n->dirty_hi = 0; n->synced_size = n->size; }

static struct node *find (const char *path) {
  for (struct node *n = nodes; n; n = n->next) if (n->path && strcmp(n->path, path) == 0) return n;
  return NULL;
}

static struct node *add_node (const char *path, int dir, mode_t mode) {
  struct node *n = calloc(1, sizeof *n);
  n->path = strdup(path); n->dir = dir; n->mode = mode & 07777;
  clean(n); n->next = nodes; nodes = n;
  return n;
}

static void log_op (int kind, const char *a, const char *b, struct node *n, mode_t mode) {
  struct op *o = calloc(1, sizeof *o);
  o->kind = kind; o->a = strdup(a); o->b = b ? strdup(b) : NULL; o->n = n; o->mode = mode;
  *journal_tail = o; journal_tail = &o->next; journal_len++;
}

// Replaces the prefix `from` of *p (whole components only) by `to`.
static void move_prefix (char **p, const char *from, const char *to) {
  size_t l = strlen(from);
  if (!*p || strncmp(*p, from, l) != 0 || ((*p)[l] != '\0' && (*p)[l] != '/')) return;
  char *np = malloc(strlen(to) + strlen(*p + l) + 1);
  strcpy(np, to); strcat(np, *p + l); free(*p); *p = np;
}

static void commit_op (struct op *o) {
  switch (o->kind) {
    case OP_CREATE: { int fd = open(disk(o->a), O_CREAT | O_TRUNC | O_WRONLY, o->mode); if (fd >= 0) close(fd);
      free(o->n->dpath); o->n->dpath = strdup(o->a); o->n->synced_size = 0;
      if (o->n->size) { o->n->dirty_lo = 0; if (o->n->dirty_hi < o->n->size) o->n->dirty_hi = o->n->size; } break; }
    case OP_MKDIR: mkdir(disk(o->a), o->mode); o->n->dpath = strdup(o->a); break;
    case OP_RENAME: {
      char from[8192]; snprintf(from, sizeof from, "%s", disk(o->a));
      rename(from, disk(o->b));
      for (struct node *n = nodes; n; n = n->next) if (n->dpath && strcmp(n->dpath, o->b) == 0 && n != o->n) { free(n->dpath); n->dpath = NULL; }
      for (struct node *n = nodes; n; n = n->next) move_prefix(&n->dpath, o->a, o->b);
      break; }
    case OP_UNLINK: case OP_RMDIR:
      if (o->kind == OP_UNLINK) unlink(disk(o->a)); else rmdir(disk(o->a));
      for (struct node *n = nodes; n; n = n->next) if (n->dpath && strcmp(n->dpath, o->a) == 0) { free(n->dpath); n->dpath = NULL; }
      break;
    case OP_CHMOD: chmod(disk(o->a), o->mode); break;
  }
}

static void commit_journal (int count) {
  while (journal && count-- > 0) {
    struct op *o = journal; journal = o->next; journal_len--;
    commit_op(o); free(o->a); free(o->b); free(o);
  }
  if (!journal) journal_tail = &journal;
}

// Writes [lo, hi) of a file's data to the disk (hi clipped to its size).
static int write_range (struct node *n, size_t lo, size_t hi, int set_size) {
  if (!n->dpath) return 0;
  int fd = open(disk(n->dpath), O_WRONLY);
  if (fd < 0) return -errno;
  if (hi > n->size) hi = n->size;
  if (lo < hi && pwrite(fd, n->data + lo, hi - lo, (off_t)lo) != (ssize_t)(hi - lo)) { close(fd); return -EIO; }
  if (set_size && ftruncate(fd, n->size) != 0) { close(fd); return -EIO; }
  close(fd);
  return 0;
}

static int do_sync (struct node *n) {
  if (n->dir || !n->dpath || n->size != n->synced_size) commit_journal(journal_len);
  if (n->dir) return 0;
  int r = write_range(n, n->dirty_lo, n->dirty_hi, 1);
  if (r == 0 && (n->dpath || !n->path)) clean(n);  // data of a file with no name on disk stays unsynced
  return r;
}

static struct node *node_of (const char *path, struct fuse_file_info *fi) {
  return fi && fi->fh ? (struct node *)(uintptr_t)fi->fh : path ? find(path) : NULL;
}

static int op_getattr (const char *path, struct stat *st, struct fuse_file_info *fi) {
  pthread_mutex_lock(&lock);
  struct node *n = node_of(path, fi);
  int r = -ENOENT;
  if (n) {
    memset(st, 0, sizeof *st);
    st->st_mode = (n->dir ? S_IFDIR : S_IFREG) | n->mode;
    st->st_nlink = n->dir ? 2 : (n->path ? 1 : 0);
    st->st_size = (off_t)n->size; st->st_blksize = 4096; st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
    r = 0;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

static int op_readdir (const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags fl) {
  (void)off; (void)fi; (void)fl;
  if (!path) return -ENOENT;
  pthread_mutex_lock(&lock);
  size_t l = strcmp(path, "/") == 0 ? 0 : strlen(path);
  fill(buf, ".", NULL, 0, 0); fill(buf, "..", NULL, 0, 0);
  for (struct node *n = nodes; n; n = n->next) {
    if (!n->path || strncmp(n->path, path, l) != 0 || n->path[l] != '/' || n->path[l + 1] == '\0') continue;
    if (strchr(n->path + l + 1, '/') == NULL) fill(buf, n->path + l + 1, NULL, 0, 0);
  }
  pthread_mutex_unlock(&lock);
  return 0;
}

static int resize (struct node *n, size_t size) {
  if (size > n->cap) {
    size_t cap = n->cap ? n->cap : 4096;
    while (cap < size) cap *= 2;
    unsigned char *d = realloc(n->data, cap);
    if (!d) return -ENOMEM;
    memset(d + n->cap, 0, cap - n->cap); n->data = d; n->cap = cap;
  }
  if (size > n->size) { if (n->size < n->dirty_lo) n->dirty_lo = n->size; if (size > n->dirty_hi) n->dirty_hi = size; }
  else { memset(n->data + size, 0, n->size - size); if (n->dirty_hi > size) n->dirty_hi = size; }
  n->size = size;
  return 0;
}

static int create_locked (const char *path, mode_t mode, struct fuse_file_info *fi) {
  struct node *n = find(path);
  if (n) { if (fi->flags & O_EXCL) return -EEXIST; }
  else { n = add_node(path, 0, mode); log_op(OP_CREATE, path, NULL, n, mode & 07777); }
  fi->fh = (uintptr_t)n;
  return 0;
}
static int op_create (const char *path, mode_t mode, struct fuse_file_info *fi) { LOCKED(create_locked(path, mode, fi)); }

static int open_locked (const char *path, struct fuse_file_info *fi) {
  struct node *n = find(path);
  if (!n) return -ENOENT;
  if (fi->flags & O_TRUNC) resize(n, 0);
  fi->fh = (uintptr_t)n;
  return 0;
}
static int op_open (const char *path, struct fuse_file_info *fi) { LOCKED(open_locked(path, fi)); }

static int op_read (const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  pthread_mutex_lock(&lock);
  struct node *n = node_of(path, fi);
  int r = 0;
  if (!n) r = -ENOENT;
  else if ((size_t)off < n->size) { r = (int)((size_t)off + size > n->size ? n->size - (size_t)off : size); memcpy(buf, n->data + off, (size_t)r); }
  pthread_mutex_unlock(&lock);
  return r;
}

static int write_locked (struct node *n, const char *buf, size_t size, off_t off) {
  if (!n) return -ENOENT;
  size_t end = (size_t)off + size;
  if (end > n->size) { int r = resize(n, end); if (r) return r; }
  memcpy(n->data + off, buf, size);
  if ((size_t)off < n->dirty_lo) n->dirty_lo = (size_t)off;
  if (end > n->dirty_hi) n->dirty_hi = end;
  return (int)size;
}
static int op_write (const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) { LOCKED(write_locked(node_of(path, fi), buf, size, off)); }

static int truncate_locked (struct node *n, off_t size) { return n ? resize(n, (size_t)size) : -ENOENT; }
static int op_truncate (const char *path, off_t size, struct fuse_file_info *fi) { LOCKED(truncate_locked(node_of(path, fi), size)); }

static int sync_locked (struct node *n) { return n ? do_sync(n) : -ENOENT; }
static int op_fsync (const char *path, int datasync, struct fuse_file_info *fi) { (void)datasync; LOCKED(sync_locked(node_of(path, fi))); }
static int op_fsyncdir (const char *path, int datasync, struct fuse_file_info *fi) { (void)datasync; (void)fi; if (!path) return 0; LOCKED(sync_locked(find(path))); }

static int mkdir_locked (const char *path, mode_t mode) {
  if (find(path)) return -EEXIST;
  log_op(OP_MKDIR, path, NULL, add_node(path, 1, mode), mode & 07777);
  return 0;
}
static int op_mkdir (const char *path, mode_t mode) { LOCKED(mkdir_locked(path, mode)); }

static int has_children (const char *path) {
  size_t l = strlen(path);
  for (struct node *n = nodes; n; n = n->next) if (n->path && strncmp(n->path, path, l) == 0 && n->path[l] == '/') return 1;
  return 0;
}

static int remove_locked (const char *path, int dir) {
  struct node *n = find(path);
  if (!n) return -ENOENT;
  if (dir && has_children(path)) return -ENOTEMPTY;
  free(n->path); n->path = NULL;  // kept in memory: open handles and journal entries may point at it
  log_op(dir ? OP_RMDIR : OP_UNLINK, path, NULL, n, 0);
  return 0;
}
static int op_unlink (const char *path) { LOCKED(remove_locked(path, 0)); }
static int op_rmdir (const char *path) { LOCKED(remove_locked(path, 1)); }

static int rename_locked (const char *from, const char *to, unsigned int flags) {
  struct node *n = find(from), *t = find(to);
  if (!n) return -ENOENT;
  if (flags & RENAME_EXCHANGE) return -EINVAL;
  if (t && (flags & RENAME_NOREPLACE)) return -EEXIST;
  if (t && t->dir && has_children(to)) return -ENOTEMPTY;
  if (t) { free(t->path); t->path = NULL; }
  char *src = strdup(from);
  for (struct node *m = nodes; m; m = m->next) move_prefix(&m->path, src, to);
  log_op(OP_RENAME, src, to, n, 0);
  free(src);
  return 0;
}
static int op_rename (const char *from, const char *to, unsigned int flags) { LOCKED(rename_locked(from, to, flags)); }

static int chmod_locked (const char *path, mode_t mode, struct fuse_file_info *fi) {
  struct node *n = node_of(path, fi);
  if (!n) return -ENOENT;
  n->mode = mode & 07777;
  if (n->path) log_op(OP_CHMOD, n->path, NULL, n, mode & 07777);
  return 0;
}
static int op_chmod (const char *path, mode_t mode, struct fuse_file_info *fi) { LOCKED(chmod_locked(path, mode, fi)); }
static int op_chown (const char *p, uid_t u, gid_t g, struct fuse_file_info *fi) { (void)p; (void)u; (void)g; (void)fi; return 0; }
static int op_utimens (const char *p, const struct timespec tv[2], struct fuse_file_info *fi) { (void)p; (void)tv; (void)fi; return 0; }
static int op_link (const char *a, const char *b) { (void)a; (void)b; return -EPERM; }
static int op_statfs (const char *p, struct statvfs *s) { (void)p; memset(s, 0, sizeof *s); s->f_bsize = s->f_frsize = 4096; s->f_blocks = s->f_bfree = s->f_bavail = 1 << 20; s->f_files = s->f_ffree = 1 << 20; s->f_namemax = 255; return 0; }

static void *op_init (struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  cfg->hard_remove = 1;  // unlinked-but-open files stay reachable through their handle, not renamed
  printf("ready\n"); fflush(stdout);
  return NULL;
}

// Loads the disk's current contents: after a power cut this is what the next boot sees.
static void load (const char *rel) {
  DIR *d = opendir(disk(rel));
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char p[4096]; snprintf(p, sizeof p, "%s/%s", strcmp(rel, "/") == 0 ? "" : rel, e->d_name);
    struct stat st; if (lstat(disk(p), &st) != 0) continue;
    struct node *n = add_node(p, S_ISDIR(st.st_mode), st.st_mode);
    n->dpath = strdup(p);
    if (n->dir) { load(p); continue; }
    FILE *f = fopen(disk(p), "rb");
    if (f && st.st_size > 0) { resize(n, (size_t)st.st_size); if (fread(n->data, 1, n->size, f) != n->size) exit(2); }
    if (f) fclose(f);
    clean(n);
  }
  closedir(d);
}

static unsigned long long rng_state;
static unsigned long long rnd (unsigned long long bound) {  // xorshift64*, in [0, bound]
  rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
  return bound ? (rng_state * 2685821657736338717ULL) % (bound + 1) : 0;
}

// SIGUSR1/SIGUSR2/SIGPWR: the power cuts after some writeback. Runs with the lock held, so no operation is half done.
static void *crasher (void *arg) {
  sigset_t *set = arg; int sig;
  sigwait(set, &sig);
  pthread_mutex_lock(&lock);
  int total = journal_len, kept = sig == SIGUSR2 ? journal_len : (int)rnd((unsigned long long)journal_len);
  commit_journal(kept);
  size_t dirty = 0, written = 0;
  for (struct node *n = nodes; n; n = n->next) {
    if (n->dir || n->dirty_lo >= n->dirty_hi) continue;
    size_t hi = n->dirty_hi > n->size ? n->size : n->dirty_hi, len = hi > n->dirty_lo ? hi - n->dirty_lo : 0;
    dirty += len;
    if (sig == SIGPWR) {  // writeback reordered by the disk's cache: any subset of the 4 KB pages
      for (size_t at = n->dirty_lo; at < hi; at = (at / 4096 + 1) * 4096) {
        size_t end = (at / 4096 + 1) * 4096 > hi ? hi : (at / 4096 + 1) * 4096;
        if (rnd(1)) { write_range(n, at, end, 0); if (n->dpath) written += end - at; }
      }
      continue;
    }
    size_t keep = sig == SIGUSR2 ? 0 : (size_t)rnd(len);
    if (n->dpath) written += keep;
    write_range(n, n->dirty_lo, n->dirty_lo + keep, 0);
  }
  fprintf(stderr, "powercut: committed %d of %d directory operations, wrote back %zu of %zu unsynced bytes\n", kept, total, written, dirty);
  _exit(0);
}

static const struct fuse_operations ops = {
  .getattr = op_getattr, .readdir = op_readdir, .create = op_create, .open = op_open, .read = op_read,
  .write = op_write, .truncate = op_truncate, .fsync = op_fsync, .fsyncdir = op_fsyncdir, .mkdir = op_mkdir,
  .unlink = op_unlink, .rmdir = op_rmdir, .rename = op_rename, .chmod = op_chmod, .chown = op_chown,
  .utimens = op_utimens, .link = op_link, .statfs = op_statfs, .init = op_init
};

int main (int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s BACKING_DIR MOUNTPOINT (SIGKILL, SIGUSR1, SIGUSR2 or SIGPWR = power cut)\n", argv[0]); return 2; }
  if (!realpath(argv[1], backing)) { perror(argv[1]); return 2; }
  const char *seed = getenv("PCP_POWERCUT_SEED");
  rng_state = (seed ? strtoull(seed, NULL, 10) : 1) * 0x9E3779B97F4A7C15ULL + 1;
  struct node *root = add_node("/", 1, 0755); root->dpath = strdup("/");
  load("/");
  static sigset_t set; sigemptyset(&set); sigaddset(&set, SIGUSR1); sigaddset(&set, SIGUSR2); sigaddset(&set, SIGPWR);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  pthread_t t; pthread_create(&t, NULL, crasher, &set);
  char *args[] = { argv[0], argv[2], "-f", "-s", "-o", "fsname=pcp-powercut,subtype=powercut", NULL };
  return fuse_main(6, args, &ops, NULL);
}
