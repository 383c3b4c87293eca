/**
 * How a lab describes itself (`labs/<id>/lab.ts`): what the catalogue, the lab CLI, the docs and the tests read.
 * This file must import nothing at run time beyond Node.js: `npm run lab -- list` reads every declaration without
 * loading aws-cdk-lib, cdk-nag or any construct. The stack and the exercise are loaded only when asked for.
 */
import type { Construct } from 'constructs';
import type { ExerciseStep } from './exercise';
import type { LabStack, LabStackProps } from './lab-stack';

/** Context key that turns every optional (billed) part of every lab on. */
export const ALL_FEATURES_CONTEXT = 'labs:all-features';

/** Context key that builds one lab's stack only (`-c labs:only=sqs`): what `npm run lab -- deploy` synthesizes. */
export const ONLY_LAB_CONTEXT = 'labs:only';

/** The context key of a lab's feature or parameter: `<lab-id>:<name>`. */
export function featureContextKey(labId: string, name: string): string {
  return `${labId}:${name}`;
}

/** A problem in how a lab is configured (context flags, declarations): a message for the learner, not a stack trace. */
export class LabConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabConfigError';
  }
}

/** An optional part of a lab, as declared: off unless its context flag is set. */
export interface FeatureSpec {
  readonly description: string;
  /** What the feature costs per month while deployed and idle, in USD (us-east-1 list prices). */
  readonly idleCostUsdPerMonth: number;
}

/** A value a learner may give a lab with `-c <lab-id>:<name>=<value>` (an address, a Region), as declared; it bills nothing. */
export interface ParameterSpec {
  readonly description: string;
  /** What a valid value looks like; any other value is refused at synth. */
  readonly pattern: RegExp;
  /** The kind of value, for the error message: "an email address". */
  readonly expected: string;
}

/** A declared feature with its name: context flag `<lab-id>:<name>`. */
export interface LabFeature<Name extends string = string> extends FeatureSpec {
  readonly name: Name;
}

/** A declared parameter with its name: context key `<lab-id>:<name>`. */
export interface LabParameter<Name extends string = string> extends ParameterSpec {
  readonly name: Name;
}

/** What every lab stack class looks like to the app and the tests. */
export type LabStackClass = new (scope: Construct, props: LabStackProps) => LabStack;

/** What a lab's exercise module exports. */
export interface LabExercise {
  readonly steps: readonly ExerciseStep[];
}

/** A lab as its `lab.ts` declares it. `F` and `P` are the names of its features and parameters. */
export interface LabDefinition<F extends string = string, P extends string = string> {
  /** Folder under labs/ and the id the lab CLI takes. */
  readonly id: string;
  readonly title: string;
  /** What a learner types: `npx cdk deploy <stackName>`. */
  readonly stackName: string;
  /** Sections of the notes in ../shared/seeds the lab teaches, as `<seed>: <section>`. */
  readonly seedTopics: readonly string[];
  /** Cost per month while deployed and idle with every feature off, in USD. */
  readonly idleCostUsdPerMonth: number;
  /** Optional parts, in the order `lab list` and the README show them. */
  readonly features: readonly LabFeature<F>[];
  /** Values the lab reads from context. */
  readonly parameters: readonly LabParameter<P>[];
  /**
   * Parts of the default stack drawn in a picture of their own on the lab page, by the id of their construct at the
   * top of the stack → the picture's heading: so that every picture of a large lab stays readable at page width.
   */
  readonly separateViews?: Readonly<Record<string, string>>;
  /** Loads the stack class (and aws-cdk-lib with it): only the app, the docs and the tests call this. */
  readonly loadStack: () => Promise<LabStackClass>;
  /** Loads the exercise module: only `npm run lab -- exercise` and the tests call this. */
  readonly loadExercise: () => Promise<LabExercise>;
}

/** The names of the features a lab declares: `FeatureName<typeof sqsLab>` is `'alarms'`. */
export type FeatureName<L extends LabDefinition> = L['features'][number]['name'];
/** The names of the parameters a lab declares. */
export type ParameterName<L extends LabDefinition> = L['parameters'][number]['name'];

/** What `labs/<id>/lab.ts` gives `defineLab`: features and parameters keyed by name, in display order. */
export interface LabDeclaration<F extends string, P extends string> {
  readonly id: string;
  readonly title: string;
  readonly stackName: string;
  readonly seedTopics: readonly string[];
  readonly idleCostUsdPerMonth: number;
  readonly features?: { readonly [Name in F]: FeatureSpec };
  readonly parameters?: { readonly [Name in P]: ParameterSpec };
  readonly separateViews?: Readonly<Record<string, string>>;
  readonly loadStack: () => Promise<LabStackClass>;
  readonly loadExercise: () => Promise<LabExercise>;
}

/**
 * Declares a lab. The feature and parameter names stay literal types, so a stack extending
 * `LabStack<typeof myLab>` that asks `this.feature('alarmz')` does not compile.
 */
export function defineLab<const F extends string = never, const P extends string = never>(
  declaration: LabDeclaration<F, P>,
): LabDefinition<F, P> {
  const { features, parameters, ...rest } = declaration;
  const named = <N extends string, S>(specs: { readonly [Name in N]: S } | undefined) =>
    Object.entries(specs ?? {}).map(([name, spec]) => ({ name: name as N, ...(spec as S) }));
  return { ...rest, features: named<F, FeatureSpec>(features), parameters: named<P, ParameterSpec>(parameters) };
}
