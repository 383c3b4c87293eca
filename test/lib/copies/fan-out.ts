import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FanOut, Subscriber } from '../../../lib/fan-out';

/** One topic fanned out to two queues, one of them filtered on the order total. */
export function build(stack: Stack): void {
  const orders = new FanOut(stack, 'Orders', {
    subscribers: {
      AllOrders: Subscriber.queue(),
      HighValue: Subscriber.queue({ rawMessageDelivery: true, filterPolicy: { total: [{ numeric: ['>=', 100] }] } }),
    },
  });
  orders.grantPublish(new iam.Role(stack, 'Checkout', { assumedBy: new iam.AccountRootPrincipal() }));
}
