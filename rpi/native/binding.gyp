{
  "targets": [{
    "target_name": "pcp_gpiochip",
    "sources": ["gpiochip.c"],
    "cflags": ["-Wall", "-Wextra", "-Werror", "-O2"]
  }]
}
