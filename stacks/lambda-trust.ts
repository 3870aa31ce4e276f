/**
 * Who may assume a function's execution role: the Lambda service, and nobody else.
 *
 * SST's function role also trusts the account root on every stage (its live `sst dev`
 * mode needs that), which would let any principal of the account allowed sts:AssumeRole on
 * "*" become the broker and read every secret. Coffer replaces that trust policy, and with
 * it gives up `sst dev` (use `coffer dev` locally).
 */
export const LAMBDA_TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "lambda.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ],
});
