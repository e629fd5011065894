/**
 * The named errors (VerydeepError and its subclasses). They are defined in kernels/errors.ts,
 * at the bottom of the import graph, so that every layer, kernels included, can throw them
 * without importing upwards; this is where lib/ reaches them.
 */
export * from '../../kernels/errors.js';
