"""The kernel: the contracts every plugin implements and receives (imports core and store only)."""
