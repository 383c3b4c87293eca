import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The codedeploy-ec2 lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const codedeployEc2Lab = defineLab({
  id: 'codedeploy-ec2',
  title: 'CodeDeploy on EC2: in-place and blue/green deployments to an Auto Scaling group, hooks, rollback, IMDSv2',
  stackName: 'CodedeployEc2Lab',
  seedTopics: [
    '000: AWS Codedeploy; CodeDeploy - appspec.yml; Deployment Configuration; CodeDeploy - Deploy to an ASG; Instance metadata',
    '002: Code Deploy',
  ],
  // An Auto Scaling group at capacity 0, a VPC without NAT, a CodeDeploy application and groups: nothing bills idle.
  idleCostUsdPerMonth: 0,
  features: {
    instances: {
      description:
        '2 t4g.micro instances (Amazon Linux 2023, arm64, IMDSv2 only) in public subnets behind an internet-facing ALB, ' +
        'a target 5XX rollback alarm, and the service role\'s permissions to copy the group for the exercise\'s blue/green group',
      // 2 × (t4g.micro $0.0084/h + public IPv4 $0.005/h) + ALB $0.0225/h + its 2 public IPv4 × $0.005/h = $0.0593/h,
      // × 730 h = $43.29; 2 × 8 GB gp3 × $0.08 = $1.28; 1 alarm $0.10 (it is what stops and rolls back a deployment,
      // so it comes with the instances it watches, not in the $0 default).
      idleCostUsdPerMonth: 44.67,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).CodedeployEc2LabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
