file(REMOVE_RECURSE
  "libhookd_core.a"
)
