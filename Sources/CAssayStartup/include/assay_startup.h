// The `assay` executable's load-time settings (startup.c: a constructor, nothing to call). Linked
// into the executable only, never into a library's host.
#pragma once
