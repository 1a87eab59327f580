// TensorFlow Serving's gRPC API, tensorflow.serving.PredictionService (protos/tensorflow_serving/apis/
// prediction_service.proto): Predict, Classify and GetModelMetadata, each in its own file, wrapped by `unary`
// (../service.ts) with the REST routes' authentication, limits, metrics and error mapping. Methods the service
// declares but Insight does not serve (Regress, MultiInference) are left out of the .proto: UNIMPLEMENTED.
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import type { GrpcObject, ServiceClientConstructor } from '@grpc/grpc-js';

import { loadProtos } from '../protos';
import { unary, type GrpcContext, type GrpcServiceModule } from '../service';
import { classify, type ClassificationRequestMessage } from './classify';
import { getModelMetadata, type GetModelMetadataRequestMessage } from './get_model_metadata';
import { predict, type PredictRequestMessage } from './predict';

const TF_SERVING_SERVICE = 'tensorflow.serving.PredictionService';

export function tfServingService(ctx: GrpcContext): GrpcServiceModule {
  const proto = loadProtos(['tensorflow_serving/apis/prediction_service.proto']);
  const serving = (proto.tensorflow as GrpcObject).serving as GrpcObject;
  // A message type of the loaded files by its full name (e.g. 'tensorflow.serving.SignatureDefMap'), for Any values.
  const serialize = (typeName: string, value: object): Buffer => {
    const type = typeName.split('.').reduce<unknown>((node, part) => (node as GrpcObject)[part], proto);
    return (type as MessageTypeDefinition<object, object>).serialize(value);
  };
  const label = (method: string) => ({ scope: 'inference' as const, label: `grpc /${TF_SERVING_SERVICE}/${method}` });
  return {
    definition: (serving.PredictionService as ServiceClientConstructor).service,
    implementation: {
      Predict: unary(ctx, label('Predict'), (request: PredictRequestMessage) => predict(ctx, request)),
      Classify: unary(ctx, label('Classify'), (request: ClassificationRequestMessage) => classify(ctx, request)),
      GetModelMetadata: unary(ctx, label('GetModelMetadata'), (request: GetModelMetadataRequestMessage) => getModelMetadata(ctx, request, serialize)),
    },
  };
}
