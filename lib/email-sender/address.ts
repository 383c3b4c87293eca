/** What an email address looks like to EmailSender and the SES lab: one @, no spaces, a dot in the domain. Loads no CDK. */
export const EMAIL_ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
