// The smallest native piece the character-device GPIO backend needs, and nothing GPIO-specific: Node
// cannot call ioctl(2), and it cannot wait on an arbitrary fd without blocking a thread-pool thread per
// watched line. So this addon offers exactly two things:
//   ioctl(fd, request, buffer) -> number   the syscall on a caller-packed struct (rpi/chardev/uapi.ts
//                                          packs and unpacks, and is tested against <linux/gpio.h>)
//   poll(fd, callback) -> handle; unpoll(handle)
//                                          libuv's uv_poll on the line request fd: the callback runs on the
//                                          main loop when the kernel has gpio_v2_line_event records to read
// Keeping struct layout out of C means the layout is checked in one place, by tests, not trusted twice.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <node_api.h>
#include <uv.h>

#define CHECK(env, call) do { if ((call) != napi_ok) { napi_throw_error((env), NULL, "pcp_gpiochip: N-API call failed: " #call); return NULL; } } while (0)

static napi_value throw_errno (napi_env env, int err, const char *syscall) {
  napi_value msg, code, error, sys, no;
  char text[160];
  const char *name = uv_err_name(-err);
  snprintf(text, sizeof text, "%s: %s (%s)", name, strerror(err), syscall);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
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

typedef struct {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  int closed;
} poller_t;

static void on_close (uv_handle_t *h) { free(h->data); }

static void on_poll (uv_poll_t *h, int status, int events) {
  (void)events;
  poller_t *p = (poller_t *)h->data;
  if (p->closed) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, arg, result;
  napi_get_reference_value(env, p->callback, &cb);
  napi_get_global(env, &global);
  if (status < 0) napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &arg);
  else napi_get_null(env, &arg);
  if (napi_call_function(env, global, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void finalize_poller (napi_env env, void *data, void *hint) {
  (void)env; (void)data; (void)hint;
  // Only the external dies here; the handle is closed by unpoll (or lives with the loop).
}

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
  struct uv_loop_s *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  poller_t *p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, ENOMEM, "poll");
  p->env = env;
  int r = uv_poll_init(loop, &p->handle, fd);
  if (r < 0) { free(p); return throw_errno(env, -r, "uv_poll_init"); }
  p->handle.data = p;
  r = uv_poll_start(&p->handle, UV_READABLE, on_poll);
  if (r < 0) { uv_close((uv_handle_t *)&p->handle, on_close); return throw_errno(env, -r, "uv_poll_start"); }
  CHECK(env, napi_create_reference(env, argv[1], 1, &p->callback));
  napi_value ext;
  CHECK(env, napi_create_external(env, p, finalize_poller, NULL, &ext));
  return ext;
}

// unpoll(handle): stops and closes; idempotent. Must run before the fd is closed (epoll forgets closed fds).
static napi_value js_unpoll (napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  if (argc != 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) { napi_throw_type_error(env, NULL, "unpoll(handle) expected a handle from poll()"); return NULL; }
  poller_t *p = (poller_t *)data;
  if (!p->closed) {
    p->closed = 1;
    uv_poll_stop(&p->handle);
    napi_delete_reference(env, p->callback);
    uv_close((uv_handle_t *)&p->handle, on_close);
  }
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
