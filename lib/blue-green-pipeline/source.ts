import { Aws, Fn } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConstructUsageError, PropsValidator } from '../core/validation';

/** What a source gives the pipeline when it is bound. */
export interface SourceBinding {
  /** The Source stage's action, writing `output`. */
  readonly action: codepipeline.IAction;
  /** Called once the pipeline exists: what starts it, when the action's own trigger is not enough. */
  readonly onPipeline?: (pipeline: codepipeline.IPipeline) => void;
}

/** Settings shared by the sources that follow a branch. */
export interface BranchSourceOptions {
  /** Branch that starts the pipeline. @default 'main' */
  readonly branch?: string;
}

/** Settings of the CodeCommit repository the pipeline creates when `repository` is not given. */
export interface CreatedRepositoryProps {
  /** A folder whose files become the first commit (on `branch`) of the repository. @default an empty repository */
  readonly initialContents?: string;
}

/** Options of `PipelineSource.codeCommit()`. */
export interface CodeCommitSourceOptions extends BranchSourceOptions {
  /** An existing CodeCommit repository. @default a repository created by the pipeline, named `<stack>-<path>` */
  readonly repository?: codecommit.IRepository;
  /** Settings of the repository the pipeline creates when `repository` is not given. @default an empty repository */
  readonly repositoryProps?: CreatedRepositoryProps;
}

/** Options of `PipelineSource.connection()`: a CodeConnections connection and the repository it reaches. */
export interface ConnectionSourceOptions extends BranchSourceOptions {
  /** ARN of a CodeConnections (formerly CodeStar Connections) connection to GitHub, GitLab or Bitbucket. */
  readonly connectionArn: string;
  /** Owner (user or organisation) of the repository. */
  readonly owner: string;
  /** Name of the repository. */
  readonly repo: string;
}

/**
 * Where the pipeline's source comes from: one of `PipelineSource.codeCommit()`, `.s3()` and `.connection()`.
 * A source belongs to one pipeline.
 */
export abstract class PipelineSource {
  /** A CodeCommit repository, created (optionally seeded from a folder) or existing; pushes start the pipeline. */
  static codeCommit(options: CodeCommitSourceOptions = {}): CodeCommitSource {
    return new CodeCommitSource(options);
  }

  /**
   * A zip at `objectKey` in a versioned bucket with EventBridge notifications on (`eventBridgeEnabled: true`): a new
   * object version starts the pipeline through an EventBridge rule, without polling or a CloudTrail trail.
   */
  static s3(bucket: s3.IBucket, objectKey: string): PipelineSource {
    return new S3Source(bucket, objectKey);
  }

  /** A repository on GitHub, GitLab or Bitbucket through a CodeConnections connection. */
  static connection(options: ConnectionSourceOptions): PipelineSource {
    return new ConnectionSource(options);
  }

  private boundTo?: string;

  /** Whether a pipeline already uses this source. */
  get isBound(): boolean {
    return this.boundTo !== undefined;
  }

  /** Records the problems of this source's options with the pipeline's others. Called by BlueGreenPipeline. */
  validate(check: PropsValidator): void {
    check.require(!this.isBound, 'SourceInUse', `this source already feeds ${this.boundTo}: create one source per pipeline`);
  }

  /** Creates what the source needs in `scope` (the pipeline) and its Source action. Called once by BlueGreenPipeline. */
  bind(scope: Construct, names: { readonly nameInStack: string }, output: codepipeline.Artifact): SourceBinding {
    this.boundTo = scope.node.path;
    return this.createAction(scope, names.nameInStack, output);
  }

  protected abstract createAction(scope: Construct, nameInStack: string, output: codepipeline.Artifact): SourceBinding;
}

/** A CodeCommit source; `repository` is the repository, created or given, once the pipeline is built. */
export class CodeCommitSource extends PipelineSource {
  private created?: codecommit.IRepository;

  constructor(private readonly options: CodeCommitSourceOptions) {
    super();
  }

  /** The CodeCommit repository: the one given, or the one the pipeline created (read it after creating the pipeline). */
  get repository(): codecommit.IRepository {
    const repository = this.options.repository ?? this.created;
    if (!repository) {
      throw new ConstructUsageError('PipelineSource.codeCommit', 'BlueGreenPipeline.SourceNotBound',
        'the repository is created by the pipeline: pass this source to a BlueGreenPipeline before reading repository');
    }
    return repository;
  }

  validate(check: PropsValidator): void {
    super.validate(check);
    check.existingOrProps(this.options.repository, this.options.repositoryProps, { existing: 'repository', props: 'repositoryProps' });
  }

  protected createAction(scope: Construct, nameInStack: string, output: codepipeline.Artifact): SourceBinding {
    const branch = this.options.branch ?? 'main';
    const initialContents = this.options.repositoryProps?.initialContents;
    this.created =
      this.options.repository ??
      new codecommit.Repository(scope, 'Repository', {
        // Unique per stack and Region without a hard-coded name.
        repositoryName: Fn.join('-', [Aws.STACK_NAME, nameInStack.toLowerCase()]),
        description: `Source of ${scope.node.path}`,
        code: initialContents ? codecommit.Code.fromDirectory(initialContents, branch) : undefined,
      });
    return {
      action: new actions.CodeCommitSourceAction({
        actionName: 'CodeCommit',
        repository: this.created,
        branch,
        output,
        trigger: actions.CodeCommitTrigger.EVENTS,
      }),
    };
  }
}

class S3Source extends PipelineSource {
  constructor(
    private readonly bucket: s3.IBucket,
    private readonly objectKey: string,
  ) {
    super();
  }

  validate(check: PropsValidator): void {
    super.validate(check);
    check.require(this.objectKey.length > 0, 'S3SourceNeedsKey', 'an S3 source needs objectKey, the key of the source zip');
  }

  protected createAction(scope: Construct, _nameInStack: string, output: codepipeline.Artifact): SourceBinding {
    const { bucket, objectKey } = this;
    return {
      action: new actions.S3SourceAction({ actionName: 'S3', bucket, bucketKey: objectKey, output, trigger: actions.S3Trigger.NONE }),
      // EventBridge instead of the CloudTrail trail S3Trigger.EVENTS needs: one rule on the key's new versions.
      onPipeline: (pipeline) =>
        new events.Rule(scope, 'SourceObjectCreated', {
          description: `Starts ${scope.node.path} when a new version of the source zip is uploaded`,
          eventPattern: {
            source: ['aws.s3'],
            detailType: ['Object Created'],
            detail: { bucket: { name: [bucket.bucketName] }, object: { key: [objectKey] } },
          },
          targets: [new targets.CodePipeline(pipeline)],
        }),
    };
  }
}

class ConnectionSource extends PipelineSource {
  constructor(private readonly options: ConnectionSourceOptions) {
    super();
  }

  protected createAction(_scope: Construct, _nameInStack: string, output: codepipeline.Artifact): SourceBinding {
    const { connectionArn, owner, repo, branch } = this.options;
    return {
      action: new actions.CodeStarConnectionsSourceAction({
        actionName: 'Connection',
        connectionArn,
        owner,
        repo,
        branch: branch ?? 'main',
        output,
      }),
    };
  }
}
