/// <reference path="./.sst/platform/config.d.ts" />
/**
 * Coffer on AWS: `npx sst deploy --stage <stage>` brings up the table, the KMS key, the API
 * behind its ingress (an HTTPS function URL by default, or a load balancer) and the revoker
 * on a one-minute schedule, each function with only the permissions it uses. Stage configuration: COFFER_* variables (stacks/stage-settings.ts,
 * docs/deploy.md).
 */
export default $config({
  async app(input) {
    const { removalPolicy } = await import("./stacks/stage-settings.ts");
    return { name: "coffer", home: "aws", ...removalPolicy(input.stage, process.env) };
  },
  async run() {
    const { readStageSettings } = await import("./stacks/stage-settings.ts");
    const { functionBundles } = await import("./stacks/function-bundles.ts");
    const { createStorage } = await import("./stacks/storage.ts");
    const { createRootKey } = await import("./stacks/keys.ts");
    const { createApi } = await import("./stacks/api.ts");
    const { createIngress } = await import("./stacks/ingress.ts");
    const { createRevoker, REVOKER_SWEEP_BUDGET_MS } = await import("./stacks/revoker.ts");
    const { createAlarms } = await import("./stacks/alarms.ts");
    const { createInjector } = await import("./stacks/injector.ts");
    const { createSecondaryProvider, tableArnIn } = await import("./stacks/regions.ts");

    const settings = readStageSettings($app.stage, process.env);
    const bundles = functionBundles($cli.paths.root, process.env);

    const secondary = createSecondaryProvider(settings);
    const table = createStorage(settings);
    const key = createRootKey(settings, secondary);
    const data = { settings, tableName: table.name, tableArn: table.arn, keyArn: key.arn };
    const replicaTableArn = settings.secondaryRegion && tableArnIn(settings.secondaryRegion, table.name);
    const api = createApi({ ...data, otherTableArn: replicaTableArn, bundle: bundles.api });
    // The second region's API: its replica of the table and of the key, home-class requests on the home table.
    const secondaryApi =
      secondary &&
      createApi({
        ...data,
        tableArn: replicaTableArn as $util.Output<string>,
        otherTableArn: table.arn,
        keyArn: key.replicaArn as $util.Output<string>,
        bundle: bundles.api,
        provider: secondary,
      });
    const ingress = createIngress({ settings, api: api.fn });
    const revoker = createRevoker({ ...data, bundle: bundles.revoker });
    key.allowRoles([
      api.fn.nodes.role.arn,
      revoker.fn.nodes.role.arn,
      ...(secondaryApi ? [secondaryApi.fn.nodes.role.arn] : []),
    ]);
    // No table, no key: the injector is not given them and cannot use them.
    const injector = createInjector({
      settings,
      bundle: bundles.injector,
      apiUrl: ingress.url,
      env: process.env,
    });
    const alarms = createAlarms({
      settings,
      apiFunctionName: api.fn.name,
      revokerFunctionName: revoker.fn.name,
      logGroupNames: [api.logGroup.name, revoker.logGroup.name],
      tableName: table.name,
      revokerSweepBudgetMs: REVOKER_SWEEP_BUDGET_MS,
    });

    return {
      url: ingress.url,
      table: table.name,
      kmsKeyArn: key.arn,
      apiFunction: api.fn.name,
      // Target roles trust this role (docs/deploy.md).
      apiRoleArn: api.fn.nodes.role.arn,
      revokerFunction: revoker.fn.name,
      alarmTopic: alarms.topic.arn,
      ...(secondaryApi && {
        // The second region's address, and the role target roles must trust as well.
        secondaryUrl: secondaryApi.fn.url,
        secondaryApiRoleArn: secondaryApi.fn.nodes.role.arn,
      }),
      injectorFunction: injector.fn.name,
      // `sst deploy` prints it: apply it to each cluster (docs/kubernetes.md).
      injectorWebhook: injector.webhook,
    };
  },
});
