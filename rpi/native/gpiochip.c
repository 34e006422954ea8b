// The smallest native piece the character-device GPIO backend needs, and nothing GPIO-specific: Node
// cannot call ioctl(2), and it cannot wait on an arbitrary fd without blocking a thread-pool thread per
// watched line. So this addon offers exactly two things:
//   ioctl(fd, request, buffer) -> number   the syscall on a caller-packed struct (rpi/chardev/uapi.ts
//                                          packs and unpacks, and is tested against <linux/gpio.h>)
//   poll(fd, callback) -> handle; unpoll(handle)
//                                          epoll on the line request fd: the callback runs on the main
//                                          loop when the kernel has gpio_v2_line_event records to read
// Keeping struct layout out of C means the layout is checked in one place, by tests, not trusted twice.
// Only <node_api.h> (Node-API 8) and libc: one binary per platform serves every Node >= 18, which is
// what lets the package ship prebuilds (rpi/native/prebuilds/, scripts/build-prebuilds.mjs).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <node_api.h>

#define CHECK(env, call) do { if ((call) != napi_ok) { napi_throw_error((env), NULL, "pcp_gpiochip: N-API call failed: " #call); return NULL; } } while (0)

// The error carries errno (negative, as Node's own errors do) and the syscall; rpi/chardev/addon.ts names
// it (util.getSystemErrorName) as e.code, since no errno-name table is in Node-API or portable libc.
static napi_value throw_errno (napi_env env, int err, const char *syscall) {
  napi_value msg, error, sys, no;
  char text[160];
  snprintf(text, sizeof text, "%s (%s)", strerror(err), syscall);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_create_int32(env, -err, &no);
  napi_set_named_property(env, error, "errno", no);
  napi_throw(env, error);
  return NULL;
}

// ioctl(fd: number, request: number, buf: Uint8Array): number
static napi_value js_ioctl (napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 3) { napi_throw_type_error(env, NULL, "ioctl(fd, request, buffer) takes 3 arguments"); return NULL; }
  int32_t fd;
  uint32_t request;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) { napi_throw_type_error(env, NULL, "\"fd\" expected a number"); return NULL; }
  if (napi_get_value_uint32(env, argv[1], &request) != napi_ok) { napi_throw_type_error(env, NULL, "\"request\" expected a number"); return NULL; }
  bool is_ta = false;
  CHECK(env, napi_is_typedarray(env, argv[2], &is_ta));
  if (!is_ta) { napi_throw_type_error(env, NULL, "\"buffer\" expected a Uint8Array"); return NULL; }
  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(env, napi_get_typedarray_info(env, argv[2], &type, &length, &data, NULL, NULL));
  if (type != napi_uint8_array) { napi_throw_type_error(env, NULL, "\"buffer\" expected a Uint8Array"); return NULL; }
  // The size the request encodes (_IOC_SIZE) must be what we pass, or the kernel reads past the buffer.
  size_t want = (request >> 16) & 0x3fff;
  if (want != length) {
    char text[120];
    snprintf(text, sizeof text, "\"buffer\" expected %zu bytes for ioctl 0x%08x, got %zu", want, request, length);
    napi_throw_range_error(env, NULL, text);
    return NULL;
  }
  int r;
  do { r = ioctl(fd, (unsigned long)request, data); } while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, errno, "ioctl");
  napi_value out;
  CHECK(env, napi_create_int32(env, r, &out));
  return out;
}

// Waiting without libuv: uv.h is not covered by Node-API's ABI guarantee (Node's docs name libuv among
// the APIs that are not), and one prebuilt binary per platform must load in every Node >= 18. So one
// thread blocks in epoll_wait for all watched fds and hands each wake-up to the main loop through a
// thread-safe function (Node-API 4). EPOLLONESHOT: the fd is re-armed only after the JS callback ran
// (and read the events), so a still-readable fd is not reported again and again meanwhile.
// The thread finds pollers by id in a mutex-guarded list, never by a pointer it was handed: after unpoll
// (or the env's teardown) removes a poller under the lock, the thread can no longer reach its tsfn.
typedef struct poller_s {
  struct poller_s *next;
  uint64_t id;
  int fd;
  int closed;  // main thread only
  napi_threadsafe_function tsfn;
} poller_t;

static pthread_mutex_t pollers_lock = PTHREAD_MUTEX_INITIALIZER;
static poller_t *pollers;  // guarded by pollers_lock
static uint64_t next_id = 1;
static int epfd = -1;      // created once, with the thread, under pollers_lock

static void unlink_locked (poller_t *p) {
  for (poller_t **q = &pollers; *q; q = &(*q)->next) if (*q == p) { *q = p->next; break; }
}

static void *wait_thread (void *arg) {
  int fd = (int)(intptr_t)arg;
  struct epoll_event evs[16];
  for (;;) {
    int n = epoll_wait(fd, evs, 16, -1);
    if (n < 0) { if (errno == EINTR) continue; return NULL; }
    pthread_mutex_lock(&pollers_lock);
    for (int i = 0; i < n; i++) {
      for (poller_t *p = pollers; p; p = p->next) {
        if (p->id != evs[i].data.u64) continue;
        // libuv's uv_poll, which this replaces, reports EPOLLERR as EBADF; a hang-up alone stays readable.
        napi_call_threadsafe_function(p->tsfn, (evs[i].events & EPOLLERR) ? (void *)1 : NULL, napi_tsfn_nonblocking);
        break;
      }
    }
    pthread_mutex_unlock(&pollers_lock);
  }
}

// On the main thread; env is NULL when Node drains the queue of a released tsfn (nothing to call then).
static void call_js (napi_env env, napi_value cb, void *context, void *data) {
  poller_t *p = (poller_t *)context;
  if (env == NULL || p->closed) return;
  napi_value global, arg, result;
  napi_get_global(env, &global);
  if (data) napi_create_string_utf8(env, "EBADF", NAPI_AUTO_LENGTH, &arg);
  else napi_get_null(env, &arg);
  if (napi_call_function(env, global, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  // The callback may have called unpoll; an error is reported once, as uv_poll stops after it.
  if (!p->closed && !data) {
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = p->id };
    epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev);
  }
}

// Runs on the main thread once the tsfn is gone: after unpoll's release, or at the env's teardown
// (a worker that exits without unpoll), which is why it unlinks too.
static void finalize_tsfn (napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  poller_t *p = (poller_t *)data;
  pthread_mutex_lock(&pollers_lock);
  unlink_locked(p);
  pthread_mutex_unlock(&pollers_lock);
  if (!p->closed) epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
  free(p);
}

static int start_thread_locked (void) {
  if (epfd >= 0) return 0;
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return errno;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // The thread waits on its argument, not the global: it may run before this function returns.
  int r = pthread_create(&t, &attr, wait_thread, (void *)(intptr_t)fd);
  pthread_attr_destroy(&attr);
  if (r != 0) { close(fd); return r; }
  epfd = fd;
  return 0;
}

static void js_unpoll_poller (poller_t *p) {
  p->closed = 1;
  pthread_mutex_lock(&pollers_lock);
  unlink_locked(p);
  pthread_mutex_unlock(&pollers_lock);
  epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
  // finalize_tsfn frees p once Node has drained the tsfn's queue.
  napi_release_threadsafe_function(p->tsfn, napi_tsfn_abort);
}

static void free_box (napi_env env, void *data, void *hint) { (void)env; (void)hint; free(data); }

// poll(fd: number, callback: (err: string | null) => void): external
static napi_value js_poll (napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  napi_valuetype t;
  if (argc != 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) { napi_throw_type_error(env, NULL, "poll(fd, callback): \"fd\" expected a number"); return NULL; }
  CHECK(env, napi_typeof(env, argv[1], &t));
  if (t != napi_function) { napi_throw_type_error(env, NULL, "poll(fd, callback): \"callback\" expected a function"); return NULL; }
  poller_t *p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, ENOMEM, "poll");
  p->fd = fd;
  pthread_mutex_lock(&pollers_lock);
  int r = start_thread_locked();
  p->id = next_id++;
  pthread_mutex_unlock(&pollers_lock);
  if (r != 0) { free(p); return throw_errno(env, r, "epoll_create1"); }
  napi_value name;
  CHECK(env, napi_create_string_utf8(env, "pcp_gpiochip.poll", NAPI_AUTO_LENGTH, &name));
  // Referenced (the default): a watched line keeps the process alive, as an active uv_poll handle did.
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, p, finalize_tsfn, p, call_js, &p->tsfn) != napi_ok) {
    free(p);
    napi_throw_error(env, NULL, "pcp_gpiochip: napi_create_threadsafe_function failed");
    return NULL;
  }
  pthread_mutex_lock(&pollers_lock);
  p->next = pollers;
  pollers = p;
  pthread_mutex_unlock(&pollers_lock);
  struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = p->id };
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int e = errno;
    js_unpoll_poller(p);
    return throw_errno(env, e, "epoll_ctl");
  }
  // JS holds a box, not p: p is freed once its tsfn is finalized, and a second unpoll must not touch it.
  poller_t **box = malloc(sizeof *box);
  if (!box) { js_unpoll_poller(p); return throw_errno(env, ENOMEM, "poll"); }
  *box = p;
  napi_value ext;
  if (napi_create_external(env, box, free_box, NULL, &ext) != napi_ok) { free(box); js_unpoll_poller(p); napi_throw_error(env, NULL, "pcp_gpiochip: napi_create_external failed"); return NULL; }
  return ext;
}

// unpoll(handle): stops; idempotent. Must run before the fd is closed (epoll forgets closed fds).
// After it returns no callback runs: call_js checks `closed` on this same thread.
static napi_value js_unpoll (napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  if (argc != 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) { napi_throw_type_error(env, NULL, "unpoll(handle) expected a handle from poll()"); return NULL; }
  poller_t **box = (poller_t **)data;
  if (*box) { js_unpoll_poller(*box); *box = NULL; }
  return NULL;
}

NAPI_MODULE_INIT () {
  napi_property_descriptor props[] = {
    { "ioctl", NULL, js_ioctl, NULL, NULL, NULL, napi_enumerable, NULL },
    { "poll", NULL, js_poll, NULL, NULL, NULL, napi_enumerable, NULL },
    { "unpoll", NULL, js_unpoll, NULL, NULL, NULL, napi_enumerable, NULL }
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}
