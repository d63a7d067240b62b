// Standalone entry point: filled in by the collector work.
return 0;
