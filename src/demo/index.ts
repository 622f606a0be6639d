export { seedSample, SAMPLE_TABLES, type SeedOptions, type SeededTable } from './seed-sample.js';
