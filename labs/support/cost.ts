/** AWS bills hourly resources over 730 hours a month in its price pages. */
export const HOURS_PER_MONTH = 730;
/** When the idle costs in labs/catalogue.ts were checked against us-east-1 list prices. */
export const PRICES_CHECKED = '2026-11';

export const perMonth = (usd: number) => `$${usd.toFixed(2)}/month`;
export const perHour = (usdPerMonth: number) => `$${(usdPerMonth / HOURS_PER_MONTH).toFixed(4)}/hour`;
