package org.deebert.streams.classifier;

import org.deebert.streams.model.ModelCard;
import org.deebert.streams.model.ModelCardValidator;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the signature defs of a loaded SavedModel's MetaGraphDef into the model card's own
 * vocabulary ({@link ModelCard.Signature}), so {@link ModelCardValidator} compares like with like.
 */
final class SavedModelSignatures {

    private SavedModelSignatures() {
    }

    /**
     * Converts every signature def except TF's internal ones (names starting with "__").
     *
     * @param metaGraph the MetaGraphDef of the loaded bundle (tag "serve")
     * @return signature name -> inputs/outputs with dtype names as Python prints them
     *         ({@code float32}, {@code int32}) and shapes with -1 for dynamic dimensions; a tensor of
     *         unknown rank has a null shape
     */
    static Map<String, ModelCard.Signature> from(MetaGraphDef metaGraph) {
        Map<String, ModelCard.Signature> result = new HashMap<>();
        for (Map.Entry<String, SignatureDef> e : metaGraph.getSignatureDefMap().entrySet()) {
            if (e.getKey().startsWith("__")) {
                continue;
            }
            SignatureDef def = e.getValue();
            result.put(e.getKey(), new ModelCard.Signature(convert(def.getInputsMap()), convert(def.getOutputsMap())));
        }
        return result;
    }

    private static Map<String, ModelCard.TensorSpec> convert(Map<String, TensorInfo> tensors) {
        Map<String, ModelCard.TensorSpec> result = new HashMap<>();
        tensors.forEach((name, info) -> result.put(name, new ModelCard.TensorSpec(dtypeName(info.getDtype()),
                shape(info.getTensorShape()))));
        return result;
    }

    private static List<Long> shape(TensorShapeProto proto) {
        if (proto.getUnknownRank()) {
            return null;
        }
        List<Long> dims = new ArrayList<>();
        for (TensorShapeProto.Dim dim : proto.getDimList()) {
            dims.add(dim.getSize());
        }
        return dims;
    }

    /**
     * Python's name for a TF dtype, e.g. DT_FLOAT -> float32.
     *
     * @param dtype the proto enum
     * @return the name used in model_card.json
     */
    static String dtypeName(DataType dtype) {
        switch (dtype) {
            case DT_FLOAT:
                return "float32";
            case DT_DOUBLE:
                return "float64";
            case DT_HALF:
                return "float16";
            default:
                return dtype.name().replaceFirst("^DT_", "").toLowerCase(Locale.ROOT);
        }
    }
}
