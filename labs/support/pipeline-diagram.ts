/**
 * A Mermaid flowchart of one CodePipeline pipeline, read from its synthesized `Stages`: the stages top-down, each
 * stage's actions in run order (actions with the same run order side by side), the repository its source action
 * reads, and for a deploy action the CodeDeploy deployment group it deploys with: the deployment configuration
 * (canary, linear, all at once), the alarms that roll it back, and the lifecycle hooks.
 */
import { CfnTemplate, label, referencedIds, Resource } from './diagram';
import { NamedDiagram } from './workflow-diagram';

interface Action {
  readonly Name: string;
  readonly ActionTypeId: { readonly Category: string; readonly Provider: string };
  readonly RunOrder?: number;
  readonly Configuration?: Record<string, unknown>;
}

interface Stage {
  readonly Name: string;
  readonly Actions: readonly Action[];
}

const quoted = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;
const safeId = (text: string) => text.replace(/[^A-Za-z0-9]/g, '_');

/** `CodeDeployDefault.LambdaCanary10Percent5Minutes` or a custom configuration as a reader says it. */
function deploymentConfigText(group: Resource, resources: Record<string, Resource>): string {
  const name = group.Properties?.DeploymentConfigName;
  if (typeof name === 'string') return name.replace(/^CodeDeployDefault\./, '');
  const config = resources[referencedIds(name)[0]]?.Properties?.TrafficRoutingConfig as
    | { Type: string; TimeBasedCanary?: { CanaryPercentage: number; CanaryInterval: number }; TimeBasedLinear?: { LinearPercentage: number; LinearInterval: number } }
    | undefined;
  if (config?.TimeBasedCanary) return `canary ${config.TimeBasedCanary.CanaryPercentage} %, the rest after ${config.TimeBasedCanary.CanaryInterval} min`;
  if (config?.TimeBasedLinear) return `linear ${config.TimeBasedLinear.LinearPercentage} % every ${config.TimeBasedLinear.LinearInterval} min`;
  return config?.Type === 'AllAtOnce' ? 'all at once' : 'AllAtOnce (default)';
}

/** `BEFORE_ALLOW_TRAFFIC_HOOK` → `BeforeAllowTraffic`: how the deploy project hands a hook to the AppSpec it writes. */
const hookEvent = (variable: string) =>
  variable
    .replace(/_HOOK$/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());

function actionText(action: Action): string {
  const { Category, Provider } = action.ActionTypeId;
  const mode = action.Configuration?.ActionMode ? ` ${action.Configuration.ActionMode}` : '';
  return `${action.Name}<br>${Provider}${mode} (${Category.toLowerCase()})`;
}

/** One pipeline diagram per AWS::CodePipeline::Pipeline of the template. */
export function pipelineDiagrams(template: CfnTemplate, stackName: string): NamedDiagram[] {
  const resources = template.Resources;
  const name = (id: string) => label(resources, id, stackName);
  const ofType = (ids: readonly string[], type: string) => ids.filter((id) => resources[id]?.Type === type);
  const environmentOf = (project: string) =>
    (resources[project].Properties?.Environment as { EnvironmentVariables?: { Name: string; Value: unknown }[] })?.EnvironmentVariables ?? [];
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::CodePipeline::Pipeline')
    .map(([pipelineId, pipeline]) => {
      const stages = (pipeline.Properties?.Stages ?? []) as Stage[];
      // A hook reaches the AppSpec through whichever project writes it (the build for ECS, the deploy step for Lambda).
      const hooks = ofType(referencedIds(stages), 'AWS::CodeBuild::Project')
        .flatMap(environmentOf)
        .filter((variable) => variable.Name.endsWith('_HOOK'));
      const lines: string[] = [];
      const edges: string[] = [];
      // Stages run one after the other: the last actions of a stage lead to the first actions of the next.
      let previousActions: string[] = [];
      for (const stage of stages) {
        const stageId = `stage_${safeId(stage.Name)}`;
        lines.push(`  subgraph ${stageId}[${quoted(`Stage ${stage.Name}`)}]`, '    direction LR');
        const byRunOrder = new Map<number, string[]>();
        for (const action of stage.Actions) {
          const actionId = `${stageId}_${safeId(action.Name)}`;
          lines.push(`    ${actionId}[${quoted(actionText(action))}]`);
          byRunOrder.set(action.RunOrder ?? 1, [...(byRunOrder.get(action.RunOrder ?? 1) ?? []), actionId]);
          // The action's own references and, for a CodeBuild action, its project's: the deploy project names the
          // deployment group and the hooks in its environment.
          const referenced = referencedIds(action.Configuration);
          const projects = ofType(referenced, 'AWS::CodeBuild::Project');
          const environment = projects.flatMap(environmentOf);
          const linked = [...referenced, ...referencedIds(environment)];
          for (const repository of [...ofType(linked, 'AWS::CodeCommit::Repository'), ...ofType(linked, 'AWS::ECR::Repository')]) {
            if (action.ActionTypeId.Category !== 'Source') continue;
            const branch = action.Configuration?.BranchName ?? 'main';
            lines.unshift(`  ${safeId(name(repository))}[(${quoted(name(repository))})]`);
            edges.push(`${safeId(name(repository))} -->|"push to ${branch}"| ${actionId}`);
          }
          for (const group of ofType(linked, 'AWS::CodeDeploy::DeploymentGroup')) {
            const groupNode = safeId(name(group));
            const properties = resources[group].Properties ?? {};
            const alarms = ((properties.AlarmConfiguration as { Alarms?: unknown[] })?.Alarms ?? []).length;
            const rollback = ((properties.AutoRollbackConfiguration as { Events?: string[] })?.Events ?? []).includes('DEPLOYMENT_STOP_ON_ALARM');
            const details = [deploymentConfigText(resources[group], resources), alarms === 1 ? `1 alarm${rollback ? ' rolls back' : ''}` : alarms ? `${alarms} alarms${rollback ? ' roll back' : ''}` : 'no alarms'];
            edges.push(`${actionId} -->|"CreateDeployment"| ${groupNode}[${quoted(`${name(group)}<br>CodeDeploy blue/green<br>${details.join('<br>')}`)}]`);
            for (const hook of hooks) {
              const fn = referencedIds(hook.Value)[0];
              if (fn) edges.push(`${groupNode} -.->|${quoted(hookEvent(hook.Name))}| ${safeId(name(fn))}[${quoted(`${name(fn)}<br>hook function`)}]`);
            }
          }
        }
        const orders = [...byRunOrder].sort(([a], [b]) => a - b).map(([, ids]) => ids);
        orders.slice(1).forEach((ids, index) => ids.forEach((to) => orders[index].forEach((from) => edges.push(`${from} --> ${to}`))));
        lines.push('  end');
        for (const to of orders[0] ?? []) for (const from of previousActions) edges.push(`${from} ==> ${to}`);
        previousActions = orders[orders.length - 1] ?? [];
      }
      const mode = pipeline.Properties?.ExecutionMode ? `, ${pipeline.Properties.ExecutionMode}` : '';
      return { name: `${name(pipelineId)} (${pipeline.Properties?.PipelineType ?? 'V1'}${mode})`, mermaid: ['flowchart TD', ...lines, ...edges.map((e) => `  ${e}`)].join('\n') };
    });
}
