import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';

/** What ECR lifecycle policies accept. */
export const ECR_LIMITS = {
  /** `countNumber` of an `imageCountMoreThan` or `sinceImagePushed` rule is at least 1. */
  minCountNumber: 1,
} as const;

/** Settings of the private repository an image is pushed to. */
export interface ImageRepositoryProps {
  /** How many images (tagged or not) the lifecycle policy keeps; older ones expire. @default 10 */
  readonly keepLastImages?: number;
  /** How long an untagged image (a tag moved away, a failed push) stays before it expires, in whole days. @default 1 day */
  readonly untaggedExpiry?: Duration;
  /** KMS key that encrypts the images; fixed at creation. @default AES-256 with an ECR-managed key */
  readonly encryptionKey?: kms.IKey;
}

/**
 * A private ECR repository as images should be kept: tags immutable (a release tag always means the same image), a
 * basic scan on every push, a lifecycle policy (untagged images expire after a few days, only the last N are kept) and
 * encryption at rest.
 */
export class ImageRepository extends Construct {
  public readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps = {}) {
    super(scope, id);
    const check = new PropsValidator(this, 'ImageRepository');
    const keepLastImages = props.keepLastImages ?? 10;
    check.require(
      Number.isInteger(keepLastImages) && keepLastImages >= ECR_LIMITS.minCountNumber,
      'KeepLastImagesRange',
      `keepLastImages must be a whole number of at least ${ECR_LIMITS.minCountNumber} (a rule that keeps no image deletes every image), got ${keepLastImages}`,
    );
    const untaggedExpiry = props.untaggedExpiry ?? Duration.days(1);
    // A token (a parameter) renders as is; a literal must be whole days, the unit ECR counts in.
    const untaggedDays = untaggedExpiry.isUnresolved() ? undefined : untaggedExpiry.toDays({ integral: false });
    if (untaggedDays !== undefined) {
      check.require(
        Number.isInteger(untaggedDays) && untaggedDays >= ECR_LIMITS.minCountNumber,
        'UntaggedExpiryDays',
        `untaggedExpiry must be a whole number of days, at least ${ECR_LIMITS.minCountNumber}, got ${untaggedExpiry.toHumanString()}`,
      );
    }
    check.throwIfInvalid();

    this.repository = new ecr.Repository(this, 'Repository', {
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: props.encryptionKey ? ecr.RepositoryEncryption.KMS : ecr.RepositoryEncryption.AES_256,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: `untagged images expire ${untaggedDays ?? 'some'} day(s) after their push`,
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: untaggedExpiry,
        },
        {
          rulePriority: 2,
          description: `keep the last ${keepLastImages} images`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: keepLastImages,
        },
      ],
    });
  }
}
