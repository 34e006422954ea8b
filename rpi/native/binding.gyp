{
  "targets": [{
    "target_name": "pcp_gpiochip",
    "sources": ["gpiochip.c"],
    "defines": ["NAPI_VERSION=8"],
    "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"]
  }]
}
