"""Format plug-ins.  Every module below this package is imported by the registry; each registers
its `Format` (declarations, detection rule, loader, checks).  Nothing else needs editing to add one."""
