// Quiet, offline defaults for every test file; set before any handler or SDK client module is loaded.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
