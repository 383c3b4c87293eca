import * as path from 'node:path';
import { Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { SafeNodejsFunction } from '../core/function';
import { PropsValidator } from '../core/validation';
import { ProjectContext } from './build-stage';
import { BLUE_GREEN_PIPELINE_LIMITS as LIMITS } from './limits';
import { findingText } from '../core/nag-ids';
import { BoundParts, IDeployTarget, partOff, TargetBinding, TargetBuildNeeds } from './target-contract';
import { TrafficShift } from './traffic-shift';

/** The placeholder the deploy action replaces with the image URI of the build's `imageDetail.json`. */
export const ECS_IMAGE_PLACEHOLDER = 'IMAGE1_NAME';

/** Options of `DeployTarget.ecsService()`: CodeDeploy blue/green between two target groups behind two listeners. */
export interface EcsServiceTargetOptions {
  /** A service with the CODE_DEPLOY deployment controller. */
  readonly service: ecs.IBaseService;
  /**
   * The target group the service's tasks are registered with now, the one `listener` forwards to: CodeDeploy moves
   * production traffic from it to `greenTargetGroup`, then the two swap roles for the next deployment.
   */
  readonly blueTargetGroup: elbv2.ITargetGroup;
  /**
   * The target group of the replacement task set: `testListener` forwards to it while the new tasks are checked, then
   * CodeDeploy shifts production traffic to it and deregisters the old tasks from `blueTargetGroup`.
   */
  readonly greenTargetGroup: elbv2.ITargetGroup;
  /** The production listener. */
  readonly listener: elbv2.IApplicationListener;
  /** Listener where the new task set answers before production traffic moves. */
  readonly testListener: elbv2.IApplicationListener;
  /** Path of the task definition template in the build output. @default 'taskdef.json' */
  readonly taskDefinitionFile?: string;
  /** Path of the ECS AppSpec in the build output. @default 'appspec-ecs.yml' */
  readonly appSpecFile?: string;
  /** @default `TrafficShift.canary(10, Duration.minutes(5))` */
  readonly trafficShift?: TrafficShift;
  /** Alarms that roll a deployment back. @default none */
  readonly rollbackAlarms?: cloudwatch.IAlarm[];
  /**
   * The container image the Build stage builds. The construct creates an ECR repository (or uses `repository`),
   * runs the build with Docker and push rights, gives it `IMAGE_REPOSITORY_URI`, and lets the service's task
   * execution role pull. The build writes `imageDetail.json` (`{"ImageURI": "<uri>:<tag>"}`) to its output, and the
   * deploy action puts that URI where the task definition template says `"image": "<IMAGE1_NAME>"`.
   * `false`: the task definition template names its image itself.
   * @default an ECR repository created by the construct (scan on push, immutable tags, last 10 images; retained on delete)
   */
  readonly image?: false | EcsImageOptions;
  /**
   * The `AfterAllowTestTraffic` hook: once the test listener routes to the replacement task set, and before any
   * production traffic moves, it requests the test listener and reports Failed (CodeDeploy rolls back) unless every
   * answer is 2xx. Its function name is `AFTER_ALLOW_TEST_TRAFFIC_HOOK` in the build environment: the AppSpec
   * must name it under `Hooks`. The hook runs outside any VPC, so the test listener must be reachable from the
   * internet. `false`: no hook. @default the hook with `TestTrafficCheckOptions` defaults
   */
  readonly testTrafficCheck?: false | TestTrafficCheckOptions;
}

/** The image the Build stage pushes. */
export interface EcsImageOptions {
  /** An existing ECR repository. @default a repository created by the construct */
  readonly repository?: ecr.IRepository;
}

/** What the ECS `AfterAllowTestTraffic` hook requests on the test listener. */
export interface TestTrafficCheckOptions {
  /**
   * URL requested. @default `http://<load balancer DNS name>:<port><path>` of `testListener` when it is an HTTP
   * listener this app defines (an HTTPS certificate would not match the load balancer's DNS name: give the URL)
   */
  readonly url?: string;
  /** Path requested when the URL is derived from the listener. @default '/' */
  readonly path?: string;
  /** Requests made, each must answer 2xx: a whole number from 1 to 50. @default 3 */
  readonly requests?: number;
  /**
   * Require each answer to contain `<family>:<revision>` of the task definition the replacement task set runs,
   * which proves the test listener reaches the new tasks and not the old ones. @default false
   */
  readonly expectTaskDefinitionInBody?: boolean;
}

interface EcsParts {
  readonly rollbackAlarms: cloudwatch.IAlarm[];
  readonly deploymentGroup: codedeploy.EcsDeploymentGroup;
}

/**
 * Deploys to an ECS service with CodeDeploy blue/green (the `CodeDeployToECS` action): optionally builds its image
 * into ECR and checks the test listener with an `AfterAllowTestTraffic` hook before production traffic moves.
 */
export class EcsServiceTarget implements IDeployTarget {
  private readonly parts: BoundParts<EcsParts>;
  private repository?: ecr.IRepository;
  private hook?: SafeNodejsFunction;

  constructor(private readonly options: EcsServiceTargetOptions) {
    this.parts = new BoundParts(`DeployTarget.ecsService(${options.service.node.path})`);
  }

  /** Alarms that roll a deployment back: the `rollbackAlarms` given. */
  get rollbackAlarms(): cloudwatch.IAlarm[] {
    return this.parts.get('rollbackAlarms').rollbackAlarms;
  }

  /** The CodeDeploy deployment group of the service. */
  get deploymentGroup(): codedeploy.EcsDeploymentGroup {
    return this.parts.get('deploymentGroup').deploymentGroup;
  }

  /** The repository the Build stage pushes images to; a usage error with `image: false`. */
  get imageRepository(): ecr.IRepository {
    this.parts.get('imageRepository');
    if (!this.repository) throw partOff(`DeployTarget.ecsService(${this.options.service.node.path})`, 'imageRepository', 'image: false');
    return this.repository;
  }

  /** The `AfterAllowTestTraffic` hook; a usage error with `testTrafficCheck: false`. */
  get afterAllowTestTrafficHook(): lambda.IFunction {
    this.parts.get('afterAllowTestTrafficHook');
    if (!this.hook) throw partOff(`DeployTarget.ecsService(${this.options.service.node.path})`, 'afterAllowTestTrafficHook', 'testTrafficCheck: false');
    return this.hook;
  }

  validate(check: PropsValidator): void {
    this.parts.validateUnused(check);
    const { testListener, testTrafficCheck, image, service } = this.options;
    (this.options.trafficShift ?? TrafficShift.DEFAULT).validate(check, 'trafficShift');
    if (testTrafficCheck !== false) {
      const { url, path: urlPath, requests } = testTrafficCheck ?? {};
      check.require(url !== undefined || isHttpListener(testListener), 'TestTrafficCheckNeedsUrl',
        'testTrafficCheck.url is needed: the test listener is imported or HTTPS, so its URL cannot be derived (a certificate does not match the load balancer DNS name)');
      check.require(url === undefined || Token.isUnresolved(url) || /^https?:\/\/[^\s/]+/.test(url), 'TestTrafficCheckUrl',
        `testTrafficCheck.url must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
      check.require(urlPath === undefined || (url === undefined && urlPath.startsWith('/')), 'TestTrafficCheckPath',
        url === undefined ? `testTrafficCheck.path must start with /, got ${JSON.stringify(urlPath)}` : 'testTrafficCheck.path is only used without url: put the path in the url');
      check.inRange(
        requests,
        { min: LIMITS.minHookRequests, max: LIMITS.maxHookRequests, whole: true },
        'TestTrafficCheckRequestsRange', `testTrafficCheck.requests must be a whole number from ${LIMITS.minHookRequests} to ${LIMITS.maxHookRequests}, got ${requests}`);
      const scope = service;
      check.require(findingText(scope, service.cluster.clusterName) !== undefined && findingText(scope, service.serviceName) !== undefined,
        'ServiceNameUnresolvable',
        "the service's name and its cluster's name must be literals or references to resources of this app: the hook's permission on the service's task sets names them");
    }
    check.warnUnless(image === false || service instanceof ecs.BaseService, 'ImageWithImportedService',
      'the service is imported, so its task execution role is unknown: grant it pull on imageRepository yourself, or its tasks cannot start');
  }

  prepareBuild(scope: Construct): TargetBuildNeeds {
    const environmentVariables: Record<string, codebuild.BuildEnvironmentVariable> = {};
    const { image, testTrafficCheck } = this.options;
    if (image !== false) {
      this.repository = image?.repository ?? createImageRepository(scope);
      environmentVariables.IMAGE_REPOSITORY_URI = { value: this.repository.repositoryUri };
    }
    if (testTrafficCheck !== false) {
      this.hook = this.createTestTrafficHook(scope, testTrafficCheck ?? {});
      environmentVariables.AFTER_ALLOW_TEST_TRAFFIC_HOOK = { value: this.hook.functionName };
    }
    return { environmentVariables, privileged: this.repository !== undefined };
  }

  grantBuild(buildProject: codebuild.PipelineProject): void {
    if (!this.repository) return;
    this.repository.grantPullPush(buildProject);
    acknowledgeEcrLogin(buildProject);
  }

  bind(context: ProjectContext, buildOutput: codepipeline.Artifact): TargetBinding {
    const { scope } = context;
    this.parts.bindTo(scope);
    const { service, blueTargetGroup, greenTargetGroup, listener, testListener } = this.options;
    const deploymentConfig = (this.options.trafficShift ?? TrafficShift.DEFAULT).ecsConfig(scope);
    const rollbackAlarms = [...(this.options.rollbackAlarms ?? [])];
    const group = new codedeploy.EcsDeploymentGroup(scope, 'EcsDeploymentGroup', {
      service,
      deploymentConfig,
      alarms: rollbackAlarms,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: rollbackAlarms.length > 0 },
      blueGreenDeploymentConfig: {
        blueTargetGroup,
        greenTargetGroup,
        listener,
        testListener,
        deploymentApprovalWaitTime: Duration.minutes(0),
        terminationWaitTime: Duration.minutes(5),
      },
    });
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]',
      reason:
        "EcsDeploymentGroup attaches CodeDeploy's own service-role policy for ECS blue/green: it lets CodeDeploy create " +
        'and delete task sets, modify the listeners and rules, read alarms and invoke CodeDeployHook_* functions.',
    });
    if (this.hook) this.wireHook(this.hook, group);
    if (this.repository && service instanceof ecs.BaseService) {
      // The task definitions a release registers name the service's execution role (see the lab's taskdef template).
      const executionRole = service.taskDefinition.obtainExecutionRole();
      this.repository.grantPull(executionRole);
      acknowledgeEcrLogin(executionRole);
    }
    const action = new actions.CodeDeployEcsDeployAction({
      actionName: 'ShiftTraffic',
      deploymentGroup: group,
      taskDefinitionTemplateFile: buildOutput.atPath(this.options.taskDefinitionFile ?? 'taskdef.json'),
      appSpecTemplateFile: buildOutput.atPath(this.options.appSpecFile ?? 'appspec-ecs.yml'),
      containerImageInputs: this.repository ? [{ input: buildOutput, taskDefinitionPlaceholder: ECS_IMAGE_PLACEHOLDER }] : undefined,
    });
    this.parts.set({ rollbackAlarms, deploymentGroup: group });
    return {
      action,
      deployment: { applicationName: group.application.applicationName, deploymentGroupName: group.deploymentGroupName },
      projects: [],
      onPipeline: (pipeline) =>
        Validations.of(pipeline).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            "CDK's CodeDeployToECS action role: ecs:RegisterTaskDefinition has no resource ARN, and iam:PassRole covers the " +
            'task and execution roles taskdef.json names at run time, limited to ecs-tasks.amazonaws.com by iam:PassedToService.',
        }),
    };
  }

  /** The AfterAllowTestTraffic hook; its deployment-group settings and grants are added by `wireHook`. */
  private createTestTrafficHook(scope: Construct, check: TestTrafficCheckOptions): SafeNodejsFunction {
    const { service, testListener } = this.options;
    const requests = check.requests ?? 3;
    return new SafeNodejsFunction(scope, 'AfterAllowTestTrafficHook', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'deploy-hooks', 'ecs.ts'),
      description: `CodeDeploy AfterAllowTestTraffic hook of ${scope.node.path}: requests the test listener, then PutLifecycleEventHookExecutionStatus`,
      // requests × the handler's 5-second request timeout, and the CodeDeploy and ECS reads around them.
      timeout: Duration.seconds(60 + 5 * requests),
      environment: {
        HOOK: 'AfterAllowTestTraffic',
        TEST_URL: check.url ?? testListenerUrl(testListener, check.path ?? '/'),
        REQUESTS: String(requests),
        EXPECT_TASK_DEFINITION: String(check.expectTaskDefinitionInBody ?? false),
        CLUSTER_NAME: service.cluster.clusterName,
        SERVICE_NAME: service.serviceName,
        POWERTOOLS_SERVICE_NAME: 'deploy-hooks',
      },
    });
  }

  private wireHook(hook: SafeNodejsFunction, group: codedeploy.EcsDeploymentGroup): void {
    const { service } = this.options;
    // AWSCodeDeployRoleForECS invokes only functions named CodeDeployHook_*: this grant covers the hook by its ARN
    // (CodeDeploy invokes it unqualified), so no <hook>:* wildcard.
    group.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [hook.functionArn] }));
    hook.addEnvironment('APPLICATION_NAME', group.application.applicationName);
    hook.addEnvironment('DEPLOYMENT_GROUP_NAME', group.deploymentGroupName);
    hook.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'codedeploy:GetDeployment',
          'codedeploy:ListDeploymentTargets',
          'codedeploy:GetDeploymentTarget',
          'codedeploy:PutLifecycleEventHookExecutionStatus',
        ],
        resources: [group.deploymentGroupArn],
      }),
    );
    const taskSets = Stack.of(group).formatArn({
      service: 'ecs',
      resource: 'task-set',
      resourceName: Fn.join('/', [service.cluster.clusterName, service.serviceName, '*']),
    });
    // Authorized on the task sets; the service ARN is listed too in case IAM evaluates the call against the service.
    hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeTaskSets'], resources: [taskSets, service.serviceArn] }));
    const names = [service.cluster.clusterName, service.serviceName].map((name) => findingText(group, name) ?? '');
    if (hook.role) {
      Validations.of(hook.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-set/${names.join('/')}/*]`,
        reason: 'CodeDeploy creates a task set per deployment with an id assigned at run time: the hook reads the task sets of this one service.',
      });
    }
  }
}

/** An HTTP listener this app defines: its URL can be derived from its load balancer's DNS name and port. */
function isHttpListener(listener: elbv2.IApplicationListener): listener is elbv2.ApplicationListener {
  return (
    listener instanceof elbv2.ApplicationListener &&
    (listener.node.defaultChild as elbv2.CfnListener).protocol === elbv2.ApplicationProtocol.HTTP
  );
}

function testListenerUrl(listener: elbv2.IApplicationListener, urlPath: string): string {
  if (!isHttpListener(listener)) return '';
  return Fn.join('', ['http://', listener.loadBalancer.loadBalancerDnsName, `:${listener.port}${urlPath}`]);
}

function createImageRepository(scope: Construct): ecr.Repository {
  return new ecr.Repository(scope, 'Images', {
    imageScanOnPush: true,
    // A tag names one image forever: what a deployment ran can always be found again.
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    lifecycleRules: [{ description: 'Keep the last 10 images: enough to roll back', maxImageCount: 10 }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** `grantee` is the build project (push) or the task execution role (pull): both log in to ECR first. */
function acknowledgeEcrLogin(grantee: IConstruct): void {
  Validations.of(grantee).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetAuthorizationToken (docker login) has no resource ARN, IAM requires "*"; pulls and pushes are limited to the one repository.',
  });
}
