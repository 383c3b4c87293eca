import { Aws, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as codeartifact from 'aws-cdk-lib/aws-codeartifact';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { logicalIdOf } from '../core/nag-ids';

/** The CodeArtifact package store: on by default (`packageStore: false` turns it off). */
export interface PackageStoreOptions {
  /**
   * The public registry the store proxies and caches, as a CodeArtifact external connection (`public:pypi`,
   * `public:maven-central`...). @default 'public:npmjs'
   */
  readonly externalConnection?: string;
}

/** The package store the pipeline created: a domain, a proxy of the public registry, and the app's repository. */
export interface PackageStore {
  readonly domain: codeartifact.CfnDomain;
  /** The app's repository, whose upstream is `upstream`: what the build logs in to. */
  readonly repository: codeartifact.CfnRepository;
  /** The repository with the external connection to the public registry. */
  readonly upstream: codeartifact.CfnRepository;
  /** `CODEARTIFACT_DOMAIN`, `CODEARTIFACT_DOMAIN_OWNER` and `CODEARTIFACT_REPOSITORY`, for the build. */
  readonly environmentVariables: Record<string, codebuild.BuildEnvironmentVariable>;
}

/**
 * Creates the CodeArtifact domain and repositories in `scope`. Domain names are unique per account and Region,
 * lowercase, start with a letter and have at most 50 characters: the construct's place in the stack and the stack's
 * UUID, not a hard-coded name.
 */
export function createPackageStore(scope: Construct, nameInStack: string, options: PackageStoreOptions): PackageStore {
  const connection = options.externalConnection ?? 'public:npmjs';
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  const domainName = Fn.join('-', ['pkg', nameInStack.toLowerCase(), Fn.select(0, Fn.split('-', stackUuid))]);
  const domain = new codeartifact.CfnDomain(scope, 'PackageDomain', { domainName });
  const registry = connection === 'public:npmjs' ? 'npm' : connection.replace(/^public:/, '');
  const upstream = new codeartifact.CfnRepository(scope, 'NpmStore', {
    domainName: domain.attrName,
    repositoryName: Fn.join('-', [domainName, `${registry}-store`]),
    description: `Proxy and cache of the public ${registry} registry`,
    externalConnections: [connection],
  });
  const repository = new codeartifact.CfnRepository(scope, 'PackageRepository', {
    domainName: domain.attrName,
    repositoryName: Fn.join('-', [domainName, 'app']),
    description: `Packages of ${scope.node.path}; public ${registry} packages through its upstream`,
    upstreams: [upstream.attrName],
  });
  return {
    domain,
    repository,
    upstream,
    environmentVariables: {
      CODEARTIFACT_DOMAIN: { value: domain.attrName },
      CODEARTIFACT_DOMAIN_OWNER: { value: domain.attrOwner },
      CODEARTIFACT_REPOSITORY: { value: repository.attrName },
    },
  };
}

/** Lets `project` log in to the store and read from its repository only. */
export function grantPackageStoreRead(store: PackageStore, project: codebuild.PipelineProject): void {
  const { domain, repository } = store;
  const packageArn = Stack.of(project).formatArn({
    service: 'codeartifact',
    resource: 'package',
    resourceName: Fn.join('/', [domain.attrName, repository.attrName, '*']),
  });
  project.addToRolePolicy(new iam.PolicyStatement({ actions: ['codeartifact:GetAuthorizationToken'], resources: [domain.attrArn] }));
  project.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['codeartifact:GetRepositoryEndpoint', 'codeartifact:ReadFromRepository'], resources: [repository.attrArn] }),
  );
  project.addToRolePolicy(new iam.PolicyStatement({ actions: ['codeartifact:ReadFromRepository'], resources: [packageArn] }));
  project.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['sts:GetServiceBearerToken'],
      resources: ['*'],
      conditions: { StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } },
    }),
  );
  Validations.of(project).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'sts:GetServiceBearerToken has no resource ARN (IAM requires "*"); the statement is limited to CodeArtifact by sts:AWSServiceName.',
  });
  Validations.of(project).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codeartifact:<AWS::Region>:<AWS::AccountId>:package/<${logicalIdOf(domain)}.Name>/<${logicalIdOf(repository)}.Name>/*]`,
    reason: 'npm install reads whichever package versions the lockfile names, all in this one CodeArtifact repository.',
  });
}
