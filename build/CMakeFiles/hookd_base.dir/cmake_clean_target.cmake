file(REMOVE_RECURSE
  "libhookd_base.a"
)
