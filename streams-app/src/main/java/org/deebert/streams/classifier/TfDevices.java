package org.deebert.streams.classifier;

import ai.djl.Device;
import ai.djl.tensorflow.engine.SavedModelBundle;

import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.internal.c_api.global.tensorflow;

import java.util.ArrayList;
import java.util.List;

/**
 * Device choice for the TensorFlow session: which devices the loaded session really has, and the one
 * the classifier reports (the session config that enforces a preference is {@link SessionConfigs}). A GPU
 * is used only when TensorFlow itself lists one, i.e. a CUDA device is visible AND the GPU natives
 * (Maven profile {@code gpu}) are on the classpath; DJL's own GPU count only sees the CUDA driver.
 */
final class TfDevices {

    private TfDevices() {
    }

    /**
     * Device names of the loaded session, e.g. {@code /job:localhost/replica:0/task:0/device:CPU:0}.
     *
     * @param bundle the loaded SavedModel bundle
     * @return the device names, in TF's order
     * @throws IllegalStateException if TensorFlow cannot list them
     */
    static List<String> sessionDevices(SavedModelBundle bundle) {
        TF_Status status = TF_Status.newStatus();
        TF_DeviceList list = tensorflow.TF_SessionListDevices(bundle.getSession(), status);
        try {
            status.throwExceptionIfNotOK();
            List<String> names = new ArrayList<>();
            int count = tensorflow.TF_DeviceListCount(list);
            for (int i = 0; i < count; i++) {
                BytePointer name = tensorflow.TF_DeviceListName(list, i, status);
                status.throwExceptionIfNotOK();
                names.add(name.getString());
            }
            return names;
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot list TensorFlow session devices: " + e.getMessage(), e);
        } finally {
            if (list != null && !list.isNull()) {
                tensorflow.TF_DeleteDeviceList(list);
            }
            status.close();
        }
    }

    /**
     * The device the session computes on, as reported and logged (input arrays stay on the host).
     *
     * @param preference    the caller's preference
     * @param sessionDevices names from {@link #sessionDevices}
     * @return {@code gpu(0)} if preferred or allowed and the session has a GPU, else {@code cpu()}
     * @throws IllegalStateException if GPU is required but the session has none
     */
    static Device choose(ClassifierOptions.DevicePreference preference, List<String> sessionDevices) {
        boolean hasGpu = sessionDevices.stream().anyMatch(name -> name.contains("device:GPU:"));
        switch (preference) {
            case CPU:
                return Device.cpu();
            case GPU:
                if (!hasGpu) {
                    throw new IllegalStateException("GPU requested but TensorFlow sees only " + sessionDevices
                            + " (needs a CUDA 12 device and the GPU natives: build with -Pgpu)");
                }
                return Device.gpu(0);
            default:
                return hasGpu ? Device.gpu(0) : Device.cpu();
        }
    }
}
